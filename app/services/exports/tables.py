"""The analysis tables (firms, observations, decisions): columns, queries and row streams.

Only what the pipeline accepted is here, as for the indicators: rows derived from a rejected or deleted submission
are removed when it is rejected or deleted, and a firm registered by such a submission leaves the roster
(``is_active`` false), so the firms table lists active firms. Personal data (``firm_contacts``: names, phone, GPS)
is added only on request, which the boundary grants to admins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, type_coerce
from sqlalchemy.orm import Session, aliased
from sqlalchemy.types import NullType

from app.errors import NotFoundError
from app.models import (
    DecisionReason,
    Firm,
    FirmContact,
    FirmObservation,
    FirmRound,
    ReasonCode,
    Submission,
    SurveyRound,
    UpgradingDecision,
    UpgradingPractice,
    ValueChain,
)
from app.services.exports.writers import Batch, Column, Kind

N, B, C, DT = Kind.NUMBER, Kind.BOOL, Kind.CODE, Kind.DATETIME
YIELD_PER = 1000  # small batches: fewer objects live long enough to be promoted (and scanned) by the GC


@dataclass(frozen=True)
class Scope:
    """Filters resolved to ids: ``None`` means every chain / every round."""

    chain_id: int | None = None
    round_id: int | None = None


def scope(session: Session, chain: str | None, round_code: str | None) -> Scope:
    """Resolve chain and round codes; an unknown one is a NotFoundError naming it."""
    chain_id = round_id = None
    if chain:
        chain_id = session.scalar(select(ValueChain.id).where(ValueChain.code == chain))
        if chain_id is None:
            raise NotFoundError(f"There is no value chain '{chain}'.")
    if round_code:
        round_id = session.scalar(select(SurveyRound.id).where(SurveyRound.code == round_code))
        if round_id is None:
            raise NotFoundError(f"There is no survey round '{round_code}'.")
    return Scope(chain_id, round_id)


CONTACT: tuple[tuple[Column, Any], ...] = (
    (Column("firm_name"), FirmContact.firm_name),
    (Column("owner_name"), FirmContact.owner_name),
    (Column("phone"), FirmContact.phone),
    (Column("gps_lat", N), FirmContact.gps_lat),
    (Column("gps_lon", N), FirmContact.gps_lon),
    (Column("gps_accuracy", N), FirmContact.gps_accuracy),
)


def _latest_round(firm_id: Any) -> Select[Any]:
    """The firm's round status of its latest round on record (highest round number)."""
    return (
        select(FirmRound.id)
        .join(SurveyRound, SurveyRound.id == FirmRound.round_id)
        .where(FirmRound.firm_id == firm_id)
        .order_by(SurveyRound.number.desc())
        .limit(1)
    )


def _firms_query(personal: bool, where: Scope) -> tuple[tuple[Column, ...], Select[Any]]:
    baseline, latest, latest_round = aliased(SurveyRound), aliased(FirmRound), aliased(SurveyRound)
    observed = select(func.count()).where(FirmObservation.firm_id == Firm.id).scalar_subquery()
    fields: tuple[tuple[Column, Any], ...] = (
        (Column("panel_code"), Firm.panel_code),
        (Column("chain"), ValueChain.code),
        (Column("admin1"), Firm.admin1),
        (Column("admin2"), Firm.admin2),
        (Column("admin3"), Firm.admin3),
        (Column("urban_rural"), Firm.urban_rural),
        (Column("year_started", N), Firm.year_started),
        (Column("legal_status"), Firm.legal_status),
        (Column("group_member", B), Firm.group_member),
        (Column("base_weight", N), Firm.base_weight),
        (Column("baseline_round"), baseline.code),
        (Column("rounds_interviewed", N), observed),
        (Column("latest_round"), latest_round.code),
        (Column("participant_status", C), latest.participant_status),
        (Column("round_weight", N), latest.round_weight),
        (Column("created_at", DT), Firm.created_at),
        *(CONTACT if personal else ()),
    )
    stmt = (
        select(*_selected(fields))
        .select_from(Firm)
        .join(ValueChain, ValueChain.id == Firm.value_chain_id)
        .outerjoin(baseline, baseline.id == Firm.baseline_round_id)
        .outerjoin(latest, latest.id == _latest_round(Firm.id).scalar_subquery())
        .outerjoin(latest_round, latest_round.id == latest.round_id)
        .where(Firm.is_active.is_(True))
        .order_by(Firm.id)
    )
    if personal:
        stmt = stmt.outerjoin(FirmContact, FirmContact.firm_id == Firm.id)
    if where.chain_id is not None:
        stmt = stmt.where(Firm.value_chain_id == where.chain_id)
    return tuple(c for c, _ in fields), stmt


def _selected(fields: tuple[tuple[Column, Any], ...]) -> list[Any]:
    """The columns as the driver returns them: the writers normalise numbers, flags and text themselves, which is
    several times faster than SQLAlchemy's per-value result processing (enums, Decimal on SQLite); timestamps keep
    their type, which reads them back in UTC on every database."""
    return [expr if column.kind is DT else type_coerce(expr, NullType()).label(column.name) for column, expr in fields]


def _firm_round() -> ColumnElement[bool]:
    return (FirmRound.firm_id == Firm.id) & (FirmRound.round_id == SurveyRound.id)


OBSERVATION_FIELDS: tuple[tuple[Column, Any], ...] = (
    (Column("chain"), ValueChain.code),
    (Column("round"), SurveyRound.code),
    (Column("panel_code"), Firm.panel_code),
    (Column("participant_status", C), FirmRound.participant_status),
    (Column("round_weight", N), FirmRound.round_weight),
    (Column("instance_id"), Submission.instance_id),
    (Column("interview_start", DT), FirmObservation.interview_start),
    (Column("interview_end", DT), FirmObservation.interview_end),
    (Column("duration_seconds", N), FirmObservation.duration_seconds),
    (Column("respondent_role"), FirmObservation.respondent_role),
    (Column("owner_sex"), FirmObservation.owner_sex),
    (Column("owner_birth_year", N), FirmObservation.owner_birth_year),
    (Column("owner_education"), FirmObservation.owner_education),
    (Column("workers_family", N), FirmObservation.workers_family),
    (Column("workers_hired", N), FirmObservation.workers_hired),
    (Column("workers_female", N), FirmObservation.workers_female),
    (Column("scale_units", N), FirmObservation.scale_units),
    (Column("scale_unit"), FirmObservation.scale_unit),
    (Column("production_qty", N), FirmObservation.production_qty),
    (Column("sales_value", N), FirmObservation.sales_value),
    (Column("input_cost", N), FirmObservation.input_cost),
    (Column("hired_labour_cost", N), FirmObservation.hired_labour_cost),
    (Column("other_costs", N), FirmObservation.other_costs),
    (Column("net_income", N), FirmObservation.net_income),
    (Column("received_training", B), FirmObservation.received_training),
    (Column("received_embedded_services", B), FirmObservation.received_embedded_services),
    (Column("has_written_contract", B), FirmObservation.has_written_contract),
    (Column("credit_received", B), FirmObservation.credit_received),
    (Column("credit_amount", N), FirmObservation.credit_amount),
    (Column("credit_source"), FirmObservation.credit_source),
    (Column("number_of_buyers", N), FirmObservation.number_of_buyers),
)


def _observations_query(personal: bool, where: Scope) -> tuple[tuple[Column, ...], Select[Any]]:
    fields = OBSERVATION_FIELDS + (CONTACT if personal else ())
    stmt = (
        select(*_selected(fields))
        .select_from(FirmObservation)
        .join(Firm, Firm.id == FirmObservation.firm_id)
        .join(ValueChain, ValueChain.id == Firm.value_chain_id)
        .join(SurveyRound, SurveyRound.id == FirmObservation.round_id)
        .join(Submission, Submission.id == FirmObservation.submission_id)
        .outerjoin(FirmRound, _firm_round())
        .order_by(FirmObservation.id)
    )
    if personal:
        stmt = stmt.outerjoin(FirmContact, FirmContact.firm_id == Firm.id)
    return tuple(c for c, _ in fields), _scoped(stmt, where, Firm.value_chain_id, FirmObservation.round_id)


# The decisions table is the long one: its small dimensions (chain, round, practice, reason) are read once into
# dicts and filled in per row from the ids, which is cheaper than four more joins per row in SQL.
LOOKUPS: dict[str, Any] = {
    "chain": select(ValueChain.id, ValueChain.code),
    "round": select(SurveyRound.id, SurveyRound.code),
    "practice": select(UpgradingPractice.id, UpgradingPractice.code),
    "upgrading_type": select(UpgradingPractice.id, type_coerce(UpgradingPractice.upgrading_type, NullType())),
    "main_reason": select(ReasonCode.id, ReasonCode.code),
    "main_reason_category": select(ReasonCode.id, type_coerce(ReasonCode.category, NullType())),
}
DECISION_FIELDS: tuple[tuple[Column, Any], ...] = (
    (Column("chain"), Firm.value_chain_id),
    (Column("round"), UpgradingDecision.round_id),
    (Column("panel_code"), Firm.panel_code),
    (Column("participant_status", C), FirmRound.participant_status),
    (Column("round_weight", N), FirmRound.round_weight),
    (Column("practice"), UpgradingDecision.practice_id),
    (Column("upgrading_type", C), UpgradingDecision.practice_id),
    (Column("aware", B), UpgradingDecision.aware),
    (Column("status", C), UpgradingDecision.status),
    (Column("applied_in_period", B), UpgradingDecision.applied_in_period),
    (Column("first_year_applied", N), UpgradingDecision.first_year_applied),
    (Column("last_year_applied", N), UpgradingDecision.last_year_applied),
    (Column("scale_share", N), UpgradingDecision.scale_share),
    (Column("investment_cost", N), UpgradingDecision.investment_cost),
    (Column("financing_source"), UpgradingDecision.financing_source),
    (Column("information_source"), UpgradingDecision.information_source),
    (Column("perceived_benefit", N), UpgradingDecision.perceived_benefit),
    (Column("perceived_cost", N), UpgradingDecision.perceived_cost),
    (Column("perceived_risk", N), UpgradingDecision.perceived_risk),
    (Column("main_reason"), DecisionReason.reason_code_id),
    (Column("main_reason_category", C), DecisionReason.reason_code_id),
)


def _decisions_query(personal: bool, where: Scope) -> tuple[tuple[Column, ...], Select[Any]]:
    del personal  # decisions hold no personal data
    d = UpgradingDecision
    stmt = (
        select(*_selected(DECISION_FIELDS))
        .select_from(d)
        .join(Firm, Firm.id == d.firm_id)
        .outerjoin(FirmRound, (FirmRound.firm_id == d.firm_id) & (FirmRound.round_id == d.round_id))
        .outerjoin(DecisionReason, (DecisionReason.decision_id == d.id) & DecisionReason.is_main.is_(True))
        .order_by(d.id)
    )
    return tuple(c for c, _ in DECISION_FIELDS), _scoped(stmt, where, Firm.value_chain_id, d.round_id)


def _scoped(stmt: Select[Any], where: Scope, chain: Any, round_: Any) -> Select[Any]:
    if where.chain_id is not None:
        stmt = stmt.where(chain == where.chain_id)
    if where.round_id is not None:
        stmt = stmt.where(round_ == where.round_id)
    return stmt


Builder = Callable[[bool, Scope], tuple[tuple[Column, ...], Select[Any]]]


@dataclass(frozen=True)
class Table:
    name: str
    filters: tuple[str, ...]  # which of chain / round apply
    has_personal_data: bool
    build: Builder
    counted: Callable[[Scope], Select[Any]]  # a cheap count of the rows
    lookups: tuple[str, ...] = ()  # columns selected as ids and filled in from LOOKUPS

    def columns(self, personal: bool) -> tuple[Column, ...]:
        return self.build(personal and self.has_personal_data, Scope())[0]

    def count(self, session: Session, where: Scope) -> int:
        return int(session.scalar(self.counted(where)) or 0)

    def batches(self, session: Session, personal: bool, where: Scope) -> Iterator[Batch]:
        """Every row in a stable order, in batches of ``YIELD_PER`` (a server-side cursor on PostgreSQL)."""
        columns, stmt = self.build(personal and self.has_personal_data, where)
        found = [(i, self._lookup(session, c.name)) for i, c in enumerate(columns) if c.name in self.lookups]
        with session.connection().execute(stmt.execution_options(yield_per=YIELD_PER)) as result:
            for partition in result.partitions():  # an abandoned download closes the cursor too (GeneratorExit)
                batch: Batch = list(zip(*partition, strict=True))
                for i, mapping in found:
                    batch[i] = tuple(map(mapping.get, batch[i]))
                yield batch

    @staticmethod
    def _lookup(session: Session, name: str) -> dict[Any, Any]:
        return dict(session.execute(LOOKUPS[name]).all())


def _count_firms(where: Scope) -> Select[Any]:
    stmt = select(func.count(Firm.id)).where(Firm.is_active.is_(True))
    return stmt if where.chain_id is None else stmt.where(Firm.value_chain_id == where.chain_id)


def _count_observations(where: Scope) -> Select[Any]:
    stmt = select(func.count(FirmObservation.id))
    if where.chain_id is not None:
        stmt = stmt.join(Firm, Firm.id == FirmObservation.firm_id)
    return _scoped(stmt, where, Firm.value_chain_id, FirmObservation.round_id)


def _count_decisions(where: Scope) -> Select[Any]:
    stmt = select(func.count(UpgradingDecision.id))
    if where.chain_id is not None:
        stmt = stmt.join(Firm, Firm.id == UpgradingDecision.firm_id)
    return _scoped(stmt, where, Firm.value_chain_id, UpgradingDecision.round_id)


TABLES = {
    "firms": Table("firms", ("chain",), True, _firms_query, _count_firms),
    "observations": Table("observations", ("chain", "round"), True, _observations_query, _count_observations),
    "decisions": Table("decisions", ("chain", "round"), False, _decisions_query, _count_decisions, tuple(LOOKUPS)),
}
