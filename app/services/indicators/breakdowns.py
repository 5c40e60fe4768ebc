"""Breakdowns over categories: reasons (UPG-11), financing and cost (UPG-13), prices by tier (UPG-18), function
position and transitions (UPG-16) and the medians of change since baseline (RET-02). Every query covers all the
pairs of a batch; ``emit`` turns one pair's rows into results."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    TableClause,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from app.indicators.catalogue import DISAGGREGATIONS, WEIGHTINGS
from app.indicators.results import Results
from app.indicators.sums import Sums, point, ratio, share
from app.models import DecisionReason, EndMarket, SaleByChannel, UpgradingDecision
from app.services.indicators.context import Pair
from app.services.indicators.firm_level import OUTCOMES
from app.services.indicators.sql import Expr, Group, PairKey, dims_table, flags, group_of, grouped, pair_of, read_sums
from app.vocab import FINANCING_SOURCES, DecisionStatus

ONE: dict[str, Expr] = {"one__flag": literal(1)}
Both = tuple[Sums, Sums]


@dataclass
class PairBreakdowns:
    """One pair's rows of every breakdown query."""

    scope: dict[Group, dict[str, Both]] = field(default_factory=dict)
    reasons: dict[Group, dict[int, dict[str, Both]]] = field(default_factory=lambda: defaultdict(dict))
    financed: dict[Group, Both] = field(default_factory=dict)
    sources: list[tuple[Group, str, Both]] = field(default_factory=list)
    prices: list[tuple[Group, int, dict[str, Both]]] = field(default_factory=list)
    market_values: list[tuple[Group, int, Both]] = field(default_factory=list)  # sales value per end-market tier
    positions: dict[Group, dict[int, Both]] = field(default_factory=lambda: defaultdict(dict))
    transitions: dict[Group, dict[int, dict[int, Both]]] = field(default_factory=lambda: defaultdict(dict))
    medians: dict[tuple[str, str, str, str, str], tuple[Any, Any, int]] = field(default_factory=dict)


Breakdowns = dict[PairKey, PairBreakdowns]


def _in_scope(d: Any) -> ColumnElement[bool]:
    """UPG-11's decisions: not adopted by a firm aware of the practice, or abandoned."""
    not_adopted = and_(d.status == DecisionStatus.NOT_ADOPTED.value, d.aware.is_(True))
    return or_(not_adopted, d.status == DecisionStatus.ABANDONED.value)


def _decisions(facts: TableClause) -> Any:
    d = UpgradingDecision
    return facts.join(d, d.observation_id == facts.c.observation_id)


def query_all(session: Session, facts: TableClause, practice_ids: list[int]) -> Breakdowns:
    out: Breakdowns = defaultdict(PairBreakdowns)
    _reasons(session, facts, practice_ids, out)
    _financing(session, facts, practice_ids, out)
    _prices(session, facts, out)
    _positions(session, facts, out)
    _transitions(session, facts, out)
    _medians(session, facts, practice_ids, out)
    return out


def _reasons(session: Session, facts: TableClause, practice_ids: list[int], out: Breakdowns) -> None:
    d, dr = UpgradingDecision, DecisionReason
    has_main = exists().where(dr.decision_id == d.id, dr.is_main.is_(True))
    scope_metrics = flags({"scope": literal(1), "with_main": case((has_main, 1), else_=None)}, ["scope", "with_main"])
    scope_q = grouped(facts, scope_metrics, facts.c.w, [], _decisions(facts))
    for row in session.execute(scope_q.where(_in_scope(d), d.practice_id.in_(practice_ids))):
        out[pair_of(row)].scope[(row.dim, row.grp)] = read_sums(row, list(scope_metrics))
    reason_metrics = flags(
        {"main": case((dr.is_main.is_(True), 1), else_=0), "mention": literal(1)}, ["main", "mention"]
    )
    source = _decisions(facts).join(dr, dr.decision_id == d.id)
    reason_q = grouped(facts, reason_metrics, facts.c.w, [dr.reason_code_id], source)
    for row in session.execute(reason_q.where(_in_scope(d), d.practice_id.in_(practice_ids))):
        out[pair_of(row)].reasons[(row.dim, row.grp)][row.reason_code_id] = read_sums(row, list(reason_metrics))


def _financing(session: Session, facts: TableClause, practice_ids: list[int], out: Breakdowns) -> None:
    d = UpgradingDecision
    applied = and_(d.applied_in_period.is_(True), d.practice_id.in_(practice_ids))
    known: dict[str, Expr] = {"financed__flag": case((d.financing_source.is_not(None), 1), else_=None)}
    for row in session.execute(grouped(facts, known, facts.c.w, [], _decisions(facts)).where(applied)):
        out[pair_of(row)].financed[(row.dim, row.grp)] = read_sums(row, list(known))["financed"]
    per_source = grouped(facts, ONE, facts.c.w, [d.financing_source], _decisions(facts))
    for row in session.execute(per_source.where(applied, d.financing_source.is_not(None))):
        out[pair_of(row)].sources.append(((row.dim, row.grp), row.financing_source, read_sums(row, list(ONE))["one"]))


def _prices(session: Session, facts: TableClause, out: Breakdowns) -> None:
    s, m = SaleByChannel, EndMarket
    metrics: dict[str, Expr] = {"value": s.value, "qty": s.qty}
    source = facts.join(s, s.observation_id == facts.c.observation_id).join(m, m.id == s.end_market_id)
    query = grouped(facts, metrics, facts.c.w, [m.tier], source).where(s.qty > 0, s.value.is_not(None))
    for row in session.execute(query):
        out[pair_of(row)].prices.append(((row.dim, row.grp), row.tier, read_sums(row, ["value", "qty"])))
    values = grouped(facts, {"value": s.value}, facts.c.w, [m.tier], source).where(s.value.is_not(None))
    for row in session.execute(values):
        out[pair_of(row)].market_values.append(((row.dim, row.grp), row.tier, read_sums(row, ["value"])["value"]))


def _positions(session: Session, facts: TableClause, out: Breakdowns) -> None:
    query = grouped(facts, ONE, facts.c.w, [facts.c.top_rank]).where(facts.c.top_rank.is_not(None))
    for row in session.execute(query):
        out[pair_of(row)].positions[(row.dim, row.grp)][row.top_rank] = read_sums(row, list(ONE))["one"]


def _transitions(session: Session, facts: TableClause, out: Breakdowns) -> None:
    c = facts.c
    query = grouped(facts, ONE, c.w, [c.prev_top_rank, c.top_rank]).where(
        c.prev_observation_id.is_not(None), c.top_rank.is_not(None), c.prev_top_rank.is_not(None)
    )
    for row in session.execute(query):
        cells = out[pair_of(row)].transitions[(row.dim, row.grp)]
        cells.setdefault(row.prev_top_rank, {})[row.top_rank] = read_sums(row, list(ONE))["one"]


def _median_rows(session: Session, source: Select[Any]) -> list[Any]:
    """Weighted (and unweighted) median per pair and group: the smallest x whose cumulative weight reaches half."""
    plain = source.subquery()
    dims = dims_table()
    grp = group_of(dims, plain).label("grp")
    src = (
        select(plain.c.chain_id, plain.c.round_id, dims.c.dim, grp, plain.c.x, plain.c.w)
        .select_from(plain.join(dims, true()))
        .subquery()
    )
    part = [src.c.chain_id, src.c.round_id, src.c.dim, src.c.grp]
    ordered = {"partition_by": part, "order_by": src.c.x, "rows": (None, 0)}
    ranked = select(
        *part,
        src.c.x,
        func.sum(src.c.w).over(**ordered).label("cum_w"),  # type: ignore[arg-type]
        func.sum(src.c.w).over(partition_by=part).label("total_w"),
        func.count().over(**ordered).label("cum_n"),  # type: ignore[arg-type]
        func.count().over(partition_by=part).label("total_n"),
    ).subquery()
    keys = [ranked.c.chain_id, ranked.c.round_id, ranked.c.dim, ranked.c.grp]
    query = select(
        *keys,
        func.min(case((ranked.c.cum_w >= ranked.c.total_w / 2.0, ranked.c.x), else_=None)),
        func.min(case((ranked.c.cum_n >= ranked.c.total_n / 2.0, ranked.c.x), else_=None)),
        func.count(),
    ).group_by(*keys)
    return list(session.execute(query))


def _medians(session: Session, facts: TableClause, practice_ids: list[int], out: Breakdowns) -> None:
    d, c = UpgradingDecision, facts.c
    deflated_cost = cast(d.investment_cost, Float) * c.deflator
    dims = [c[name] for name in DISAGGREGATIONS if name != "overall"]
    source = (
        select(c.chain_id, c.round_id, deflated_cost.label("x"), c.w.label("w"), *dims)
        .select_from(_decisions(facts))
        .where(d.applied_in_period.is_(True), d.investment_cost.is_not(None), d.practice_id.in_(practice_ids))
    )
    for chain_id, round_id, dim, grp, weighted, unweighted, n in _median_rows(session, source):
        out[(chain_id, round_id)].medians[("UPG-13", "median", "investment_cost", dim, grp)] = (weighted, unweighted, n)
    for y in OUTCOMES:
        change = c[y] - c[f"base_{y}"]
        source = select(c.chain_id, c.round_id, change.label("x"), c.w.label("w"), *dims).where(change.is_not(None))
        for chain_id, round_id, dim, grp, weighted, unweighted, n in _median_rows(session, source):
            out[(chain_id, round_id)].medians[("RET-02", "median", y, dim, grp)] = (weighted, unweighted, n)


def emit(pair: Pair, data: PairBreakdowns, out: Results) -> None:
    _emit_reasons(pair, data, out)
    _emit_financing(data, out)
    _emit_prices(pair, data, out)
    _emit_positions(pair, data, out)
    _emit_transitions(pair, data, out)
    for (code, measure, subject, dim, grp), (weighted, unweighted, n) in data.medians.items():
        for value, weighting in ((weighted, "weighted"), (unweighted, "unweighted")):
            out.add(code, measure, subject, (dim, grp), weighting, "currency", point(value, int(n)))


def _emit_reasons(pair: Pair, data: PairBreakdowns, out: Results) -> None:
    for group, totals in data.scope.items():
        for i, weighting in enumerate(WEIGHTINGS):
            all_scope, with_main = totals["scope"][i], totals["with_main"][i]
            categories: dict[str, float] = defaultdict(float)  # category -> main-reason numerator
            for reason_id, (code, reason_category) in pair.reasons.items():
                sums = data.reasons[group].get(reason_id)
                main = sums["main"][i].swy if sums else 0.0
                mention = sums["mention"][i].swy if sums else 0.0
                categories[reason_category.value] += main
                out.add("UPG-11", "main_share", code, group, weighting, "share", share(main, with_main))
                out.add("UPG-11", "mention_share", code, group, weighting, "share", share(mention, all_scope))
            for category, main in categories.items():
                out.add("UPG-11", "category_share", category, group, weighting, "share", share(main, with_main))


def _emit_financing(data: PairBreakdowns, out: Results) -> None:
    """A share per financing source and group, 0 for a source nobody in the group used."""
    used = {(group, source): sums for group, source, sums in data.sources}
    for group, financed in data.financed.items():
        for source in FINANCING_SOURCES:
            sums = used.get((group, source))
            for i, weighting in enumerate(WEIGHTINGS):
                numerator = sums[i].swy if sums else 0.0
                out.add("UPG-13", "share", source, group, weighting, "share", share(numerator, financed[i]))


def _emit_prices(pair: Pair, data: PairBreakdowns, out: Results) -> None:
    prices: dict[tuple[Group, str], dict[int, tuple[float, int]]] = defaultdict(dict)
    for group, tier, sums in data.prices:
        for i, weighting in enumerate(WEIGHTINGS):
            value, qty = sums["value"][i], sums["qty"][i]
            price = ratio(value.swy * pair.round.deflator, qty.swy, value.n)
            if price.value is not None:
                prices[(group, weighting)][tier] = (price.value, value.n)
            out.add("UPG-18", "unit_price", f"tier {tier}", group, weighting, "currency", price)
    _emit_market_shares(data, out)
    for (group, weighting), tiers in prices.items():
        lowest = tiers[min(tiers)][0]
        for tier, (price_value, n) in tiers.items():
            premium = price_value / lowest - 1 if lowest else None
            out.add("UPG-18", "premium", f"tier {tier}", group, weighting, "share", point(premium, n))


def _emit_market_shares(data: PairBreakdowns, out: Results) -> None:
    """UPG-18 value_share: the distribution of (weighted) sales value over end-market tiers; n counts the sales."""
    totals: dict[Group, list[float]] = defaultdict(lambda: [0.0] * len(WEIGHTINGS))
    for group, _tier, value in data.market_values:
        for i in range(len(WEIGHTINGS)):
            totals[group][i] += value[i].swy
    for group, tier, value in data.market_values:
        for i, weighting in enumerate(WEIGHTINGS):
            total = totals[group][i]
            part = point(value[i].swy / total if total else None, value[i].n)
            out.add("UPG-18", "value_share", f"tier {tier}", group, weighting, "share", part)


def _emit_positions(pair: Pair, data: PairBreakdowns, out: Results) -> None:
    """UPG-16: share of firms (with any function recorded) whose highest function is each function."""
    for group, ranks in data.positions.items():
        for i, weighting in enumerate(WEIGHTINGS):
            total = Sums()
            for sums in ranks.values():
                total += sums[i]
            for rank, code in pair.functions.items():
                at = ranks.get(rank)
                out.add("UPG-16", "share", code, group, weighting, "share", share(at[i].sw if at else 0.0, total))


def _emit_transitions(pair: Pair, data: PairBreakdowns, out: Results) -> None:
    """Row shares of the previous -> this round matrix, including the cells no firm moved to (share 0)."""
    if pair.previous is None:
        return
    name = pair.functions
    for group, matrix in data.transitions.items():
        for before, row in matrix.items():
            for i, weighting in enumerate(WEIGHTINGS):
                total = Sums()
                for both in row.values():
                    total += both[i]
                for after in sorted(set(name) | set(row)):
                    moved = row.get(after)
                    subject = f"{name.get(before, before)}>{name.get(after, after)}"
                    estimate = share(moved[i].sw if moved else 0.0, total)
                    out.add("UPG-16", "transition_share", subject, group, weighting, "share", estimate)
