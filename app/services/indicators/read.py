"""Reading stored results for the API and exports: filters, one page at a time, with freshness per pair."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.errors import NotFoundError
from app.indicators.catalogue import BY_CODE
from app.models import IndicatorResult, IndicatorSet, SurveyRound, ValueChain
from app.services.indicators.status import pending_by_pair

COLUMNS = (
    "code",
    "name",
    "chain",
    "round",
    "measure",
    "subject",
    "disaggregation",
    "group",
    "weighting",
    "unit",
    "value",
    "ci_low",
    "ci_high",
    "n",
    "n_eff",
    "suppressed",
    "method_version",
    "computed_at",
    "watermark",
    "data_as_of",
    "stale",
)


def results_query(session: Session, args: Mapping[str, Any]) -> Select[*tuple[Any, ...]]:
    """Stored results joined with their set, chain and round, filtered by ``args``; unknown codes are a 404."""
    r = IndicatorResult
    stmt = (
        select(r, ValueChain.code, SurveyRound.code, IndicatorSet)
        .join(ValueChain, ValueChain.id == r.value_chain_id)
        .join(SurveyRound, SurveyRound.id == r.round_id)
        .join(IndicatorSet, (IndicatorSet.value_chain_id == r.value_chain_id) & (IndicatorSet.round_id == r.round_id))
    )
    if args.get("code"):
        codes = [c.strip().upper() for c in args["code"].split(",") if c.strip()]
        unknown = [c for c in codes if c not in BY_CODE]
        if unknown:
            raise NotFoundError(f"Unknown indicator code(s): {', '.join(unknown)}; see /api/v1/indicators/catalogue.")
        stmt = stmt.where(r.code.in_(codes))
    if args.get("chain"):
        if session.scalar(select(ValueChain.id).where(ValueChain.code == args["chain"])) is None:
            raise NotFoundError(f"There is no value chain '{args['chain']}'.")
        stmt = stmt.where(ValueChain.code == args["chain"])
    if args.get("round"):
        if session.scalar(select(SurveyRound.id).where(SurveyRound.code == args["round"])) is None:
            raise NotFoundError(f"There is no survey round '{args['round']}'.")
        stmt = stmt.where(SurveyRound.code == args["round"])
    for arg, column in (
        ("disaggregation", r.disaggregation),
        ("group", r.group_value),
        ("measure", r.measure),
        ("subject", r.subject),
        ("weighting", r.weighting),
    ):
        if args.get(arg):
            stmt = stmt.where(column == args[arg])
    return stmt


def to_item(row: Any, pending: Mapping[tuple[int, int], Any]) -> dict[str, Any]:
    result, chain, round_code, stored = row
    return {
        "code": result.code,
        "name": BY_CODE[result.code].name if result.code in BY_CODE else result.code,
        "chain": chain,
        "round": round_code,
        "measure": result.measure,
        "subject": result.subject,
        "disaggregation": result.disaggregation,
        "group": result.group_value,
        "weighting": result.weighting,
        "unit": result.unit,
        "value": result.value,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "n": result.n,
        "n_eff": result.n_eff,
        "suppressed": result.suppressed,
        "method_version": stored.method_version,
        "computed_at": stored.computed_at,
        "watermark": stored.watermark,
        "data_as_of": stored.data_as_of,
        "stale": (result.value_chain_id, result.round_id) in pending,
    }


def iter_results(session: Session, args: Mapping[str, Any], batch: int = 5000) -> Iterator[dict[str, Any]]:
    """Every matching result, in id order, fetched ``batch`` rows at a time (constant memory)."""
    stmt = results_query(session, args)
    pending = pending_by_pair(session)
    last = 0
    while True:
        rows = list(session.execute(stmt.where(IndicatorResult.id > last).order_by(IndicatorResult.id).limit(batch)))
        if not rows:
            return
        for row in rows:
            yield to_item(row, pending)
        last = rows[-1][0].id
