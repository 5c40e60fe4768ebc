"""One row per eligible firm and round, for every (chain, round) of a batch, aggregated in SQL.

Eligible firms S(c, r) are those with an accepted interview in the round: derived rows (``firm_observations``) exist
only for mapped submissions that no reviewer rejected, one per firm and round. Money is deflated to baseline prices.
The previous round's and the baseline's facts of the same firm ride along for the panel indicators.

The facts are materialised as temporary tables, so the aggregate queries that follow scan a few thousand firm rows
instead of re-joining the decisions, sales and functions each time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    String,
    TableClause,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import Session, aliased

from app.models import (
    ChainFunction,
    EndMarket,
    Firm,
    FirmObservation,
    FirmRound,
    FunctionPerformed,
    SaleByChannel,
    UpgradingDecision,
    UpgradingPractice,
)
from app.services.indicators.context import Pair
from app.services.indicators.sql import Expr
from app.services.indicators.temp import create_temp, drop_temp
from app.vocab import DecisionStatus, UpgradingType

TYPES = tuple(UpgradingType)
TEMP_TABLES = ("ind_facts", "ind_decisions", "ind_sales", "ind_functions")
AnySelect = Select[*tuple[Any, ...]]
NO_THRESHOLD = 10**6  # a chain without end markets has no higher-value market


def ever_used(status: Expr) -> ColumnElement[bool]:
    return status.in_([DecisionStatus.ADOPTED.value, DecisionStatus.TRIED.value, DecisionStatus.ABANDONED.value])


def knows(decision: Any) -> ColumnElement[bool]:
    """Aware of the practice: said so, or has used it (a user knows it whatever the awareness answer)."""
    return or_(decision.aware.is_(True), ever_used(decision.status))


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.max(case((condition, 1), else_=0))


def _lookup(mapping: dict[int, Any], key: Expr, type_: Any = None) -> ColumnElement[Any]:
    if not mapping:
        return literal(None, type_)
    return case({k: literal(v, type_) for k, v in mapping.items()}, value=key, else_=None)


@dataclass(frozen=True)
class Batch:
    """The pairs computed together, and what their SQL needs to know about rounds and chains."""

    pairs: dict[tuple[int, int], Pair]

    @property
    def chain_ids(self) -> list[int]:
        return sorted({c for c, _ in self.pairs})

    @property
    def round_ids(self) -> list[int]:
        return sorted({r for _, r in self.pairs})

    def previous(self) -> dict[int, int]:
        return {p.round.id: p.previous.id for p in self.pairs.values() if p.previous is not None}

    def baseline(self) -> dict[int, int]:
        return {p.round.id: p.baseline.id for p in self.pairs.values() if p.baseline is not None}

    def deflators(self) -> dict[int, float]:
        out: dict[int, float] = {}
        for p in self.pairs.values():
            for ref in (p.round, p.previous, p.baseline):
                if ref is not None:
                    out[ref.id] = ref.deflator
        return out

    def thresholds(self) -> dict[int, int]:
        return {
            p.chain_id: p.high_value_tier if p.high_value_tier is not None else NO_THRESHOLD
            for p in self.pairs.values()
        }

    def all_round_ids(self) -> list[int]:
        return sorted(set(self.round_ids) | set(self.previous().values()) | set(self.baseline().values()))


@dataclass(frozen=True)
class Facts:
    facts: TableClause

    def drop(self, session: Session) -> None:
        drop_temp(session, *TEMP_TABLES)


def _of_batch(query: AnySelect, observation_id: Expr, batch: Batch, round_ids: list[int]) -> AnySelect:
    """``query``'s rows of the batch's observations, by joining them (one observation per id, so no row is
    repeated). Not ``observation_id IN (SELECT …)``: PostgreSQL underestimates that semi-join and probed the
    decisions once per observation *and* practice, ten times the work (0.76 s against 0.08 s for one chain)."""
    o, f = aliased(FirmObservation, name="batch_obs"), aliased(Firm, name="batch_firm")
    return (
        query.join(o, o.id == observation_id)
        .join(f, f.id == o.firm_id)
        .where(f.value_chain_id.in_(batch.chain_ids), o.round_id.in_(round_ids))
    )


def _decisions(session: Session, batch: Batch) -> TableClause:
    d, p = UpgradingDecision, UpgradingPractice
    applied = d.applied_in_period.is_(True)
    columns: list[Expr] = [
        d.observation_id.label("observation_id"),
        func.sum(case((applied, 1), else_=0)).label("n_applied"),
    ]
    for kind in TYPES:
        is_kind = p.upgrading_type == kind.value
        columns += [
            _flag(and_(applied, is_kind)).label(f"app_{kind.value}"),
            _flag(and_(d.status == DecisionStatus.ADOPTED.value, is_kind)).label(f"sus_{kind.value}"),
            _flag(and_(knows(d), is_kind)).label(f"aware_{kind.value}"),
        ]
    query = (
        _of_batch(select(*columns).select_from(d), d.observation_id, batch, batch.round_ids)
        .join(p, p.id == d.practice_id)
        .where(p.value_chain_id.in_(batch.chain_ids), p.is_active)
        .group_by(d.observation_id)
    )
    return create_temp(session, "ind_decisions", query, ["observation_id"])


def _sales(session: Session, batch: Batch) -> TableClause:
    s, m = SaleByChannel, EndMarket
    high = m.tier >= _lookup(batch.thresholds(), m.value_chain_id)
    priced = and_(s.qty > 0, s.value.is_not(None))
    value = cast(s.value, Float)
    embedded = and_(s.embedded_services.is_not(None), cast(s.embedded_services, String) != "[]")
    columns = (
        s.observation_id.label("observation_id"),
        _flag(high).label("high_any"),
        func.sum(case((high, value), else_=0.0)).label("value_high"),
        func.sum(value).label("value_all"),
        func.max(m.tier).label("top_tier"),
        func.sum(case((priced, value), else_=None)).label("priced_value"),
        func.sum(case((priced, cast(s.qty, Float)), else_=None)).label("priced_qty"),
        _flag(s.contract.is_(True)).label("any_contract"),
        _flag(embedded).label("any_embedded"),
        func.count().label("sales_rows"),
    )
    query = (
        _of_batch(select(*columns).select_from(s), s.observation_id, batch, batch.all_round_ids())
        .join(m, m.id == s.end_market_id)
        .group_by(s.observation_id)
    )
    return create_temp(session, "ind_sales", query, ["observation_id"])


def _functions(session: Session, batch: Batch) -> TableClause:
    fp, cf = FunctionPerformed, ChainFunction
    columns = (fp.observation_id.label("observation_id"), func.max(cf.value_added_rank).label("top_rank"))
    query = (
        _of_batch(select(*columns).select_from(fp), fp.observation_id, batch, batch.all_round_ids())
        .join(cf, cf.id == fp.chain_function_id)
        .group_by(fp.observation_id)
    )
    return create_temp(session, "ind_functions", query, ["observation_id"])


def _unit_price(sales: Any, deflator: ColumnElement[Any]) -> ColumnElement[float]:
    return case((sales.c.priced_qty > 0, sales.c.priced_value / sales.c.priced_qty * deflator), else_=None)


def _size_class(workers: ColumnElement[Any]) -> ColumnElement[str]:
    return case(
        (workers.is_(None), literal("unknown")),
        (workers <= 4, literal("micro")),
        (workers <= 20, literal("small")),
        (workers <= 100, literal("medium")),
        else_=literal("large"),
    )


def build_facts(session: Session, batch: Batch) -> Facts:
    drop_temp(session, *TEMP_TABLES)
    dec, sales, funcs = _decisions(session, batch), _sales(session, batch), _functions(session, batch)
    o, f, fr = FirmObservation, Firm, FirmRound
    prev, base = aliased(o, name="prev_obs"), aliased(o, name="base_obs")
    prev_sales, base_sales, prev_funcs = sales.alias("prev_sales"), sales.alias("base_sales"), funcs.alias("prev_funcs")
    deflators = batch.deflators()
    deflator = _lookup(deflators, o.round_id, Float)
    base_deflator = _lookup(deflators, base.round_id, Float)
    workers = o.workers_family + o.workers_hired  # family workers include the owner; NULL when either is unknown
    columns: list[Expr] = [
        f.value_chain_id.label("chain_id"),
        o.round_id.label("round_id"),
        cast(deflator, Float).label("deflator"),
        o.firm_id.label("firm_id"),
        o.id.label("observation_id"),
        cast(func.coalesce(fr.round_weight, 1.0), Float).label("w"),
        func.coalesce(o.owner_sex, "unknown").label("owner_gender"),
        _size_class(workers).label("size_class"),
        func.coalesce(fr.participant_status, "unknown").label("participant_status"),
        func.coalesce(f.admin1, "unknown").label("admin1"),
        func.coalesce(f.urban_rural, "unknown").label("urban_rural"),
        func.coalesce(dec.c.n_applied, 0).label("n_applied"),
        *[
            func.coalesce(dec.c[f"{p}_{k.value}"], 0).label(f"{p}_{k.value}")
            for p in ("app", "sus", "aware")
            for k in TYPES
        ],
        func.coalesce(sales.c.high_any, 0).label("high_any"),
        sales.c.value_high,
        sales.c.value_all,
        func.coalesce(sales.c.top_tier, 0).label("top_tier"),
        func.coalesce(sales.c.any_contract, 0).label("any_contract"),
        func.coalesce(sales.c.any_embedded, 0).label("any_embedded"),
        funcs.c.top_rank,
        case((o.received_embedded_services.is_(True), 1), else_=0).label("said_embedded"),
        case((o.has_written_contract.is_(True), 1), else_=0).label("said_contract"),
        o.number_of_buyers,
        (cast(o.sales_value, Float) * deflator).label("sales"),
        (cast(o.net_income, Float) * deflator).label("net_income"),
        _unit_price(sales, deflator).label("unit_price"),
        prev.id.label("prev_observation_id"),
        func.coalesce(prev_sales.c.top_tier, 0).label("prev_top_tier"),
        prev_funcs.c.top_rank.label("prev_top_rank"),
        base.id.label("base_observation_id"),
        (cast(base.sales_value, Float) * base_deflator).label("base_sales"),
        (cast(base.net_income, Float) * base_deflator).label("base_net_income"),
        _unit_price(base_sales, base_deflator).label("base_unit_price"),
    ]
    query = (
        select(*columns)
        .select_from(o)
        .join(f, f.id == o.firm_id)
        .outerjoin(fr, and_(fr.firm_id == o.firm_id, fr.round_id == o.round_id))
        .outerjoin(dec, dec.c.observation_id == o.id)
        .outerjoin(sales, sales.c.observation_id == o.id)
        .outerjoin(funcs, funcs.c.observation_id == o.id)
        .outerjoin(prev, and_(prev.firm_id == o.firm_id, prev.round_id == _lookup(batch.previous(), o.round_id)))
        .outerjoin(prev_sales, prev_sales.c.observation_id == prev.id)
        .outerjoin(prev_funcs, prev_funcs.c.observation_id == prev.id)
        .outerjoin(base, and_(base.firm_id == o.firm_id, base.round_id == _lookup(batch.baseline(), o.round_id)))
        .outerjoin(base_sales, base_sales.c.observation_id == base.id)
        .where(f.value_chain_id.in_(batch.chain_ids), o.round_id.in_(batch.round_ids))
        .where(tuple_(f.value_chain_id, o.round_id).in_(list(batch.pairs)))
    )
    return Facts(create_temp(session, "ind_facts", query, ["observation_id", "prev_observation_id"]))
