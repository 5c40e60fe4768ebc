"""Stored indicator results, shaped for the dashboard's pages: a grid of cells keyed by what they measure.

Pages never compute: every number shown is a stored IndicatorResult, so the page, the API and the exports agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import InvalidError, NotFoundError
from app.indicators.catalogue import CONTRASTS, DISAGGREGATIONS, WEIGHTINGS
from app.models import IndicatorResult, IndicatorSet, SurveyRound, ValueChain
from app.services.indicators.status import pending_by_pair

OVERALL = "overall"
ALL = "all"


@dataclass(frozen=True)
class Cell:
    code: str
    measure: str
    subject: str
    round: str
    disaggregation: str
    group: str
    unit: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    n_eff: float | None
    suppressed: bool


Key = tuple[str, str, str, str, str, str]  # code, measure, subject, round, disaggregation, group


@dataclass
class Grid:
    """Cells of one chain and weighting, for the rounds and disaggregations read."""

    cells: dict[Key, Cell] = field(default_factory=dict)

    def get(self, code: str, measure: str, subject: str, round_code: str, view: View) -> Cell | None:
        return self.cells.get((code, measure, subject, round_code, view.disaggregation, view.group))

    def subjects(self, code: str, measure: str, round_code: str, view: View) -> list[str]:
        return sorted(
            {
                k[2]
                for k in self.cells
                if k[0] == code
                and k[1] == measure
                and k[3] == round_code
                and k[4:] == (view.disaggregation, view.group)
            }
        )

    def groups(self, disaggregation: str) -> list[str]:
        """The groups of ``disaggregation`` present, contrasts (``a-b``) left out."""
        contrast = "-".join(CONTRASTS[disaggregation]) if disaggregation in CONTRASTS else None
        return sorted({k[5] for k in self.cells if k[4] == disaggregation and k[5] != contrast})


@dataclass(frozen=True)
class View:
    """Which firms a page shows: all of them, or one group of a disaggregation (``owner_gender:female``)."""

    disaggregation: str = OVERALL
    group: str = ALL

    @classmethod
    def parse(cls, raw: str | None) -> View:
        if not raw or raw == OVERALL:
            return cls()
        disaggregation, sep, group = raw.partition(":")
        if not sep or disaggregation not in DISAGGREGATIONS or disaggregation == OVERALL or not group:
            raise InvalidError(f"Unknown view '{raw}': use 'overall' or '<disaggregation>:<group>'.")
        return cls(disaggregation, group)

    @property
    def key(self) -> str:
        return OVERALL if self.disaggregation == OVERALL else f"{self.disaggregation}:{self.group}"


@dataclass(frozen=True)
class RoundInfo:
    id: int
    code: str
    name: str
    number: int


@dataclass(frozen=True)
class Freshness:
    computed_at: dt.datetime | None
    data_as_of: dt.datetime | None
    firms: int
    decisions: int
    pending: int
    last_error: str | None


def check_weighting(weighting: str) -> str:
    if weighting not in WEIGHTINGS:
        raise InvalidError(f"Unknown weighting '{weighting}': use one of {', '.join(WEIGHTINGS)}.")
    return weighting


def chains(session: Session) -> Sequence[ValueChain]:
    return session.scalars(select(ValueChain).order_by(ValueChain.code)).all()


def chain_by_code(session: Session, code: str) -> ValueChain:
    chain = session.scalar(select(ValueChain).where(ValueChain.code == code))
    if chain is None:
        raise NotFoundError(f"There is no value chain '{code}'.")
    return chain


def rounds_with_results(session: Session, chain_id: int) -> list[RoundInfo]:
    """The rounds that have a computed set for this chain, baseline first."""
    stmt = (
        select(SurveyRound.id, SurveyRound.code, SurveyRound.name, SurveyRound.number)
        .join(IndicatorSet, IndicatorSet.round_id == SurveyRound.id)
        .where(IndicatorSet.value_chain_id == chain_id, IndicatorSet.computed_at.is_not(None))
        .order_by(SurveyRound.number)
    )
    return [RoundInfo(*row) for row in session.execute(stmt)]


def freshness(session: Session, chain_id: int) -> dict[str, Freshness]:
    """Per round code: when its results were computed, from which data, on how many firms, and what waits."""
    waiting = pending_by_pair(session)
    stmt = (
        select(IndicatorSet, SurveyRound.code)
        .join(SurveyRound, SurveyRound.id == IndicatorSet.round_id)
        .where(IndicatorSet.value_chain_id == chain_id)
    )
    out = {}
    for stored, code in session.execute(stmt):
        pending = waiting.get((chain_id, stored.round_id), (0, None))[0]
        out[code] = Freshness(
            stored.computed_at, stored.data_as_of, stored.firms, stored.decisions, pending, stored.last_error
        )
    return out


def read_grid(
    session: Session,
    chain_ids: Iterable[int],
    weighting: str,
    *,
    codes: Iterable[str] | None = None,
    round_ids: Iterable[int] | None = None,
    disaggregations: Iterable[str] = (OVERALL,),
) -> dict[int, Grid]:
    """The stored results of these chains, one Grid a chain, in one query."""
    r = IndicatorResult
    stmt = (
        select(r, SurveyRound.code)
        .join(SurveyRound, SurveyRound.id == r.round_id)
        .where(
            r.value_chain_id.in_(list(chain_ids)),
            r.weighting == check_weighting(weighting),
            r.disaggregation.in_(list(disaggregations)),
        )
    )
    if codes is not None:
        stmt = stmt.where(r.code.in_(list(codes)))
    if round_ids is not None:
        stmt = stmt.where(r.round_id.in_(list(round_ids)))
    grids: dict[int, Grid] = {}
    for result, round_code in session.execute(stmt.execution_options(yield_per=2000)):
        cell = Cell(
            result.code,
            result.measure,
            result.subject,
            round_code,
            result.disaggregation,
            result.group_value,
            result.unit,
            result.value,
            result.ci_low,
            result.ci_high,
            result.n,
            result.n_eff,
            result.suppressed,
        )
        key = (cell.code, cell.measure, cell.subject, cell.round, cell.disaggregation, cell.group)
        grids.setdefault(result.value_chain_id, Grid()).cells[key] = cell
    return grids
