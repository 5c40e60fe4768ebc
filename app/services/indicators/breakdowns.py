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
    TableClause,
    and_,
    case,
    cast,
    exists,
    literal,
    or_,
)
from sqlalchemy.orm import Session

from app.indicators.catalogue import WEIGHTINGS
from app.indicators.results import Results
from app.indicators.sums import Sums, point, ratio, share
from app.models import DecisionReason, EndMarket, SaleByChannel, UpgradingDecision
from app.services.indicators.context import Pair
from app.services.indicators.firm_level import OUTCOMES
from app.services.indicators.frame import Frame
from app.services.indicators.grouping import aggregate
from app.services.indicators.medians import medians
from app.services.indicators.sql import Expr, Group, PairKey, flags
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


def query_all(session: Session, frame: Frame, practice_ids: list[int]) -> Breakdowns:
    out: Breakdowns = defaultdict(PairBreakdowns)
    _reasons(session, frame, practice_ids, out)
    _financing(session, frame, practice_ids, out)
    _prices(session, frame, out)
    _positions(session, frame, out)
    _transitions(session, frame, out)
    _medians(session, frame, practice_ids, out)
    return out


def _reasons(session: Session, frame: Frame, practice_ids: list[int], out: Breakdowns) -> None:
    d, dr = UpgradingDecision, DecisionReason
    has_main = exists().where(dr.decision_id == d.id, dr.is_main.is_(True))
    scope_metrics = flags({"scope": literal(1), "with_main": case((has_main, 1), else_=None)}, ["scope", "with_main"])
    in_scope = [_in_scope(d), d.practice_id.in_(practice_ids)]
    for cell in aggregate(session, frame, scope_metrics, (), source=_decisions(frame.facts), where=in_scope):
        out[cell.pair].scope[cell.group] = cell.sums
    reason_metrics = flags(
        {"main": case((dr.is_main.is_(True), 1), else_=0), "mention": literal(1)}, ["main", "mention"]
    )
    source = _decisions(frame.facts).join(dr, dr.decision_id == d.id)
    for cell in aggregate(session, frame, reason_metrics, [dr.reason_code_id], source=source, where=in_scope):
        out[cell.pair].reasons[cell.group][cell.keys[0]] = cell.sums


def _financing(session: Session, frame: Frame, practice_ids: list[int], out: Breakdowns) -> None:
    d = UpgradingDecision
    applied = [d.applied_in_period.is_(True), d.practice_id.in_(practice_ids)]
    known: dict[str, Expr] = {"financed__flag": case((d.financing_source.is_not(None), 1), else_=None)}
    for cell in aggregate(session, frame, known, (), source=_decisions(frame.facts), where=applied):
        out[cell.pair].financed[cell.group] = cell.sums["financed"]
    where = [*applied, d.financing_source.is_not(None)]
    for cell in aggregate(session, frame, ONE, [d.financing_source], source=_decisions(frame.facts), where=where):
        out[cell.pair].sources.append((cell.group, cell.keys[0], cell.sums["one"]))


def _prices(session: Session, frame: Frame, out: Breakdowns) -> None:
    s, m, facts = SaleByChannel, EndMarket, frame.facts
    metrics: dict[str, Expr] = {"value": s.value, "qty": s.qty}
    source = facts.join(s, s.observation_id == facts.c.observation_id).join(m, m.id == s.end_market_id)
    for cell in aggregate(session, frame, metrics, [m.tier], source=source, where=[s.qty > 0, s.value.is_not(None)]):
        out[cell.pair].prices.append((cell.group, cell.keys[0], cell.sums))
    for cell in aggregate(session, frame, {"value": s.value}, [m.tier], source=source, where=[s.value.is_not(None)]):
        out[cell.pair].market_values.append((cell.group, cell.keys[0], cell.sums["value"]))


def _positions(session: Session, frame: Frame, out: Breakdowns) -> None:
    c = frame.facts.c
    for cell in aggregate(session, frame, ONE, [c.top_rank], where=[c.top_rank.is_not(None)]):
        out[cell.pair].positions[cell.group][cell.keys[0]] = cell.sums["one"]


def _transitions(session: Session, frame: Frame, out: Breakdowns) -> None:
    c = frame.facts.c
    where = [c.prev_observation_id.is_not(None), c.top_rank.is_not(None), c.prev_top_rank.is_not(None)]
    for cell in aggregate(session, frame, ONE, [c.prev_top_rank, c.top_rank], where=where):
        before, after = cell.keys
        out[cell.pair].transitions[cell.group].setdefault(before, {})[after] = cell.sums["one"]


def _medians(session: Session, frame: Frame, practice_ids: list[int], out: Breakdowns) -> None:
    d, c = UpgradingDecision, frame.facts.c
    applied = [d.applied_in_period.is_(True), d.practice_id.in_(practice_ids)]
    cost = cast(d.investment_cost, Float) * c.deflator
    for m in medians(session, frame, cost, _decisions(frame.facts), applied):
        out[m.pair].medians[("UPG-13", "median", "investment_cost", *m.group)] = (m.weighted, m.unweighted, m.n)
    for y in OUTCOMES:
        for m in medians(session, frame, c[y] - c[f"base_{y}"]):
            out[m.pair].medians[("RET-02", "median", y, *m.group)] = (m.weighted, m.unweighted, m.n)


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
