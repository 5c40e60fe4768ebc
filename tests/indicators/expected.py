"""Expected indicator results for the hand-built panel, computed from the plain specs by ../shared/docs/indicators.md.

An independent reference for test_values.py: it reads only the ``FirmSpec`` list and the constants of panel.py, and
does its arithmetic in plain Python with the list-based estimators of app/indicators/stats.py (tested on their own
against the contract's test vectors). Nothing here comes from the SQL implementation.

Readings where the contract's words leave a choice (the rest is §1-§3 as written):
- item non-response: a share or mean is over the units whose item is known (a score, the number of buyers, the
  financing source, the main reason of UPG-11; UPG-11's mention shares are over every decision in scope);
- n of a difference of two groups is the sum of the two groups' n; sale-level n (UPG-18) counts sale rows;
- UPG-12 net attractiveness is, as written, mean benefit - mean risk (a difference of two means: Welch interval),
  n being the decisions with either score;
- which firm shares get group contrasts is not listed by the contract: those of ``CONTRASTED``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from app.indicators import stats
from tests.indicators.panel import DEFLATORS, FINANCING, FUNCTIONS, MARKETS, PRACTICES, REASONS, FirmSpec, Visit

ROUNDS = ("R0", "R1")  # R0: baseline (round 0); R1: the follow-up, whose previous round is R0
TYPES = ("process", "product", "functional", "channel")
APPLIED, EVER_USED = {"adopted", "tried"}, {"adopted", "tried", "abandoned"}
HIGH_VALUE_TIER = MARKETS["exporter"]  # the lowest export tier
CATALOGUE_SIZE = len(PRACTICES)
DIMENSIONS = ("owner_gender", "size_class", "participant_status", "admin1", "urban_rural")
CONTRASTS = {
    "owner_gender": ("female", "male"),
    "participant_status": ("participant", "comparison"),
    "urban_rural": ("urban", "rural"),
}
CONTRASTED = {  # (code, measure) of the firm shares with a group contrast, and the contrast's subject
    ("UPG-01", "share"),
    ("UPG-02", "share"),
    ("UPG-03", "share"),
    ("UPG-06", "multi_type_share"),
    ("UPG-14", "firm_share"),
    ("UPG-15", "share"),
    ("UPG-16", "upgrading_rate"),
    ("UPG-17", "share"),
}
SUBJECTS = {**{p: {p} for p in PRACTICES}, **{t: {p for p, k in PRACTICES.items() if k == t} for t in TYPES}}
SCORES = ("benefit", "cost", "risk")

Key = tuple[str, str, str, str, str, str, str]  # round, code, measure, subject, disaggregation, group, weighting
Items = list[tuple[float, float]]  # (y, w) of the units in a denominator


@dataclass(frozen=True)
class Row:
    value: float
    ci_low: float | None
    ci_high: float | None
    n: int
    n_eff: float | None = None  # Kish n_eff, where the contract defines it (a share or a mean)


@dataclass(frozen=True)
class Unit:
    """An eligible firm in a round, its interviews in the previous round and the baseline, and its weight."""

    firm: FirmSpec
    rnd: str
    v: Visit
    prev: Visit | None
    base: Visit | None
    w: float


# ---- estimators: None when the denominator is empty (no result is expected then) -------------------------------


def share(items: list[tuple[bool, float]]) -> Row | None:
    if not items or sum(w for _, w in items) == 0:
        return None
    s = stats.share([y for y, _ in items], [w for _, w in items])
    return Row(s.value, s.ci.low, s.ci.high, s.n, s.n_eff)


def mean(items: Items, scale: float = 1.0) -> Row | None:
    if not items:
        return None
    m = stats.mean([x for x, _ in items], [w for _, w in items])
    low, high = (m.ci.low * scale, m.ci.high * scale) if m.ci else (None, None)
    return Row(m.value * scale, low, high, m.n, m.n_eff)


def mean_difference(first: Items, second: Items, n: int | None = None) -> Row | None:
    if not first or not second:
        return None
    a, b = (stats.mean([x for x, _ in i], [w for _, w in i]) for i in (first, second))
    d = stats.mean_difference(a, b)
    ci = (d.ci.low, d.ci.high) if d else (None, None)
    return Row(a.value - b.value, *ci, a.n + b.n if n is None else n)


def share_difference(first: list[tuple[bool, float]], second: list[tuple[bool, float]]) -> Row | None:
    if not first or not second:
        return None
    a, b = (stats.share([y for y, _ in i], [w for _, w in i]) for i in (first, second))
    d = stats.share_difference(a, b)
    return Row(d.value, d.ci.low, d.ci.high, a.n + b.n)


def median(items: Items) -> Row | None:
    if not items:
        return None
    return Row(stats.weighted_median([x for x, _ in items], [w for _, w in items]), None, None, len(items))


def point(value: float | None, n: int) -> Row | None:
    return None if value is None else Row(value, None, None, n)


# ---- per-firm facts ----------------------------------------------------------------------------------------------


def applied(v: Visit) -> set[str]:
    return {d.practice for d in v.decisions if d.status in APPLIED}


def types_of(practices: set[str]) -> set[str]:
    return {PRACTICES[p] for p in practices}


def aware(v: Visit) -> set[str]:
    return {d.practice for d in v.decisions if d.aware or d.status in EVER_USED}


def top_tier(v: Visit) -> int:
    return max((MARKETS[m] for m, _, _ in v.sale_rows), default=0)


def top_rank(v: Visit) -> int | None:
    return max((FUNCTIONS[f] for f in v.functions), default=None)


def size_class(v: Visit) -> str:
    workers = v.family + v.hired  # family workers include the owner
    return "micro" if workers <= 4 else "small" if workers <= 20 else "medium" if workers <= 100 else "large"


def group_of(u: Unit, dim: str) -> str:
    values = {
        "owner_gender": u.v.sex,
        "size_class": size_class(u.v),
        "participant_status": u.v.participant,
        "admin1": u.firm.admin1,
        "urban_rural": u.firm.urban,
    }
    return values[dim]


def sales(v: Visit, rnd: str) -> float | None:
    return v.sales * DEFLATORS[rnd]


def net_income(v: Visit, rnd: str) -> float | None:
    return float(Decimal(str(v.sales)) - Decimal(str(v.inputs))) * DEFLATORS[rnd]


def unit_price(v: Visit, rnd: str) -> float | None:
    priced = [(qty, value) for _, qty, value in v.sale_rows if qty > 0]
    qty = sum(q for q, _ in priced)
    return sum(value for _, value in priced) / qty * DEFLATORS[rnd] if qty > 0 else None


OUTCOMES: dict[str, Callable[[Visit, str], float | None]] = {
    "sales": sales,
    "net_income": net_income,
    "unit_price": unit_price,
}


def change(u: Unit, y: str) -> float | None:
    """D_i = Y*(r) - Y*(r0), for a firm eligible in both."""
    if u.base is None:
        return None
    now, before = OUTCOMES[y](u.v, u.rnd), OUTCOMES[y](u.base, "R0")
    return None if now is None or before is None else now - before


# ---- firm shares (UPG-01/02/03/06/10/14/15/16 rate/17) -------------------------------------------------------------


def firm_shares(panel: bool) -> list[tuple[str, str, str, Callable[[Unit], bool | None]]]:
    """(code, measure, subject, y): y(unit) is the firm's 0/1 outcome, None when it is not in the denominator."""
    specs: list[tuple[str, str, str, Callable[[Unit], bool | None]]] = []
    for t in TYPES:
        specs += [
            ("UPG-01", "share", t, lambda u, t=t: t in types_of(applied(u.v))),
            (
                "UPG-02",
                "share",
                t,
                lambda u, t=t: t in {PRACTICES[d.practice] for d in u.v.decisions if d.status == "adopted"},
            ),
            ("UPG-10", "aware_share", t, lambda u, t=t: t in types_of(aware(u.v))),
        ]
    specs.append(("UPG-03", "share", "", lambda u: bool(applied(u.v))))
    specs += [("UPG-06", "share_at", str(b), lambda u, b=b: len(types_of(applied(u.v))) == b) for b in range(5)]
    specs.append(("UPG-06", "multi_type_share", "", lambda u: len(types_of(applied(u.v))) >= 2))
    specs.append(("UPG-14", "firm_share", "", lambda u: top_tier(u.v) >= HIGH_VALUE_TIER))
    specs += [
        ("UPG-17", "share", "embedded_services", lambda u: u.v.embedded),
        ("UPG-17", "share", "written_contract", lambda u: u.v.contract),
        ("UPG-17", "share", "two_or_more_buyers", lambda u: None if u.v.buyers is None else u.v.buyers >= 2),
    ]
    if panel:
        specs.append(("UPG-15", "share", "", lambda u: None if u.prev is None else top_tier(u.v) > top_tier(u.prev)))
        specs.append(("UPG-16", "upgrading_rate", "", _function_up))
    return specs


def _function_up(u: Unit) -> bool | None:
    before, now = (top_rank(u.prev) if u.prev else None), top_rank(u.v)
    return None if before is None or now is None else now > before


def _flags(units: list[Unit], y: Callable[[Unit], bool | None]) -> list[tuple[bool, float]]:
    return [(flag, u.w) for u in units if (flag := y(u)) is not None]


# ---- the indicators of one group of firms -----------------------------------------------------------------------

Result = tuple[str, str, str, Row | None]


def indicators(units: list[Unit], panel: bool) -> Iterator[Result]:
    for code, measure, subject, y in firm_shares(panel):
        yield code, measure, subject, share(_flags(units, y))
    yield from upg04_05_06_10(units)
    yield from decision_shares(units, panel)
    yield from upg11(units)
    yield from upg12(units)
    yield from upg13(units)
    yield from upg14_16_18(units, panel)
    yield from returns(units, panel)


def upg04_05_06_10(units: list[Unit]) -> Iterator[Result]:
    counts = [(float(len(applied(u.v))), u.w) for u in units]
    yield "UPG-05", "mean", "", mean(counts)
    yield "UPG-05", "mean_among_appliers", "", mean([(x, w) for x, w in counts if x >= 1])
    yield "UPG-05", "index", "", mean(counts, 1 / CATALOGUE_SIZE)
    yield "UPG-06", "mean", "", mean([(float(len(types_of(applied(u.v)))), u.w) for u in units])
    for subject, practices in SUBJECTS.items():
        did, knew = (share([(bool(f(u.v) & practices), u.w) for u in units]) for f in (applied, aware))
        if subject in PRACTICES:
            yield "UPG-04", "share", subject, did
            yield "UPG-04", "count", subject, point(sum(u.w for u in units if subject in applied(u.v)), len(units))
            yield "UPG-10", "aware_share", subject, knew
        if did and knew:
            yield "UPG-10", "gap", subject, point(knew.value - did.value, len(units))


def decision_shares(units: list[Unit], panel: bool) -> Iterator[Result]:
    """UPG-07 (abandoned among ever used) and, between rounds, UPG-08 (dis-adoption) and UPG-09 (trial conversion)."""
    now = {(id(u), d.practice): d for u in units for d in u.v.decisions}  # no decision: not applied, not adopted
    for subject, practices in SUBJECTS.items():
        mine = [(u, d) for u in units for d in u.v.decisions if d.practice in practices]
        yield (
            "UPG-07",
            "share",
            subject,
            share([(d.status == "abandoned", u.w) for u, d in mine if d.status in EVER_USED]),
        )
        if not panel:
            continue
        before = [(u, d, now.get((id(u), d.practice))) for u in units if u.prev for d in u.prev.decisions]
        before = [(u, d, after) for u, d, after in before if d.practice in practices]
        dropped = [(after is None or not after.applied, u.w) for u, d, after in before if d.applied]
        converted = [
            (after is not None and after.status == "adopted", u.w) for u, d, after in before if d.status == "tried"
        ]
        yield "UPG-08", "share", subject, share(dropped)
        yield "UPG-09", "share", subject, share(converted)


def upg11(units: list[Unit]) -> Iterator[Result]:
    """Reasons: over decisions not adopted by an aware firm, or abandoned."""
    scope = [
        (d, u.w)
        for u in units
        for d in u.v.decisions
        if (d.status == "not_adopted" and d.aware) or d.status == "abandoned"
    ]
    with_main = [(d, w) for d, w in scope if d.main is not None]
    for reason in REASONS:
        yield "UPG-11", "main_share", reason, share([(d.main == reason, w) for d, w in with_main])
        yield "UPG-11", "mention_share", reason, share([(reason == d.main or reason in d.others, w) for d, w in scope])
    for category in set(REASONS.values()):
        yield "UPG-11", "category_share", category, share([(REASONS[d.main] == category, w) for d, w in with_main])


def upg12(units: list[Unit]) -> Iterator[Result]:
    """Perceived scores, separately over decisions applied and not applied."""
    for subject, practices in SUBJECTS.items():
        for label, wanted in (("applied", True), ("not_applied", False)):
            mine = [(d, u.w) for u in units for d in u.v.decisions if d.practice in practices and d.applied == wanted]
            scored = {s: [(float(x), w) for d, w in mine if (x := getattr(d, s)) is not None] for s in SCORES}
            for s in SCORES:
                yield "UPG-12", "mean", f"{subject}:{s}:{label}", mean(scored[s])
                yield "UPG-12", "top2_share", f"{subject}:{s}:{label}", share([(x >= 4, w) for x, w in scored[s]])
            either = sum(1 for d, _ in mine if d.benefit is not None or d.risk is not None)
            net = mean_difference(scored["benefit"], scored["risk"], either)
            yield "UPG-12", "net_attractiveness", f"{subject}:{label}", net


def upg13(units: list[Unit]) -> Iterator[Result]:
    """Among decisions applied in the round: median deflated investment cost, shares by financing source."""
    done = [(d, u) for u in units for d in u.v.decisions if d.applied]
    costs = [(d.invest * DEFLATORS[u.rnd], u.w) for d, u in done if d.invest is not None]
    yield "UPG-13", "median", "investment_cost", median(costs)
    known = [(d.finance, u.w) for d, u in done if d.finance is not None]
    for source in FINANCING:
        yield "UPG-13", "share", source, share([(f == source, w) for f, w in known])


def upg14_16_18(units: list[Unit], panel: bool) -> Iterator[Result]:
    """Value sold to higher-value markets, functional position and transitions, unit price by tier."""
    selling = [u for u in units if u.v.sale_rows]
    high = sum(u.w * val for u in selling for m, _, val in u.v.sale_rows if MARKETS[m] >= HIGH_VALUE_TIER)
    total = sum(u.w * val for u in selling for _, _, val in u.v.sale_rows)
    yield "UPG-14", "value_share", "", point(high / total if total else None, len(selling))
    ranked = [(rank, u.w) for u in units if (rank := top_rank(u.v)) is not None]
    for function, rank in FUNCTIONS.items():
        yield "UPG-16", "share", function, share([(r == rank, w) for r, w in ranked])
    if panel:
        moves = [(top_rank(u.prev), top_rank(u.v), u.w) for u in units if u.prev is not None]
        for f_before, r_before in FUNCTIONS.items():
            row = [(after, w) for before, after, w in moves if before == r_before and after is not None]
            for f_after, r_after in FUNCTIONS.items():
                yield "UPG-16", "transition_share", f"{f_before}>{f_after}", share([(a == r_after, w) for a, w in row])
    prices = {}
    for tier in sorted(set(MARKETS.values())):
        rows = [(qty, val, u) for u in units for m, qty, val in u.v.sale_rows if MARKETS[m] == tier and qty > 0]
        qty = sum(u.w * q for q, _, u in rows)
        if qty > 0:
            prices[tier] = (sum(u.w * val * DEFLATORS[u.rnd] for _, val, u in rows) / qty, len(rows))
            yield "UPG-18", "unit_price", f"tier {tier}", point(*prices[tier])
    for tier, (price, n) in prices.items():
        lowest = prices[min(prices)][0]
        yield "UPG-18", "premium", f"tier {tier}", point(price / lowest - 1 if lowest else None, n)


def returns(units: list[Unit], panel: bool) -> Iterator[Result]:
    """RET-01 (appliers vs non-appliers), RET-02 (change since baseline), RET-03 (difference-in-differences)."""
    for y, outcome in OUTCOMES.items():
        values = [(u, x) for u in units if (x := outcome(u.v, u.rnd)) is not None]
        none = [(x, u.w) for u, x in values if not applied(u.v)]
        yield "RET-01", "difference", f"{y}:any", mean_difference([(x, u.w) for u, x in values if applied(u.v)], none)
        for t in TYPES:
            appliers = [(x, u.w) for u, x in values if t in types_of(applied(u.v))]
            yield "RET-01", "difference", f"{y}:{t}", mean_difference(appliers, none)
        if not panel:
            continue
        changes = [(u, d) for u in units if (d := change(u, y)) is not None]
        yield "RET-02", "mean", y, mean([(d, u.w) for u, d in changes])
        yield "RET-02", "median", y, median([(d, u.w) for u, d in changes])
        part = [[(d, u.w) for u, d in changes if u.v.participant == status] for status in ("participant", "comparison")]
        yield "RET-03", "did", y, mean_difference(*part)
        app = [[(d, u.w) for u, d in changes if bool(applied(u.v)) is flag] for flag in (True, False)]
        yield "RET-03", "did_associational", y, mean_difference(*app)


# ---- every result of the panel ---------------------------------------------------------------------------------


def units_of(firms: list[FirmSpec], rnd: str, weighting: str) -> list[Unit]:
    """S(c, r): the firms interviewed in the round; the weight of round r (1 when unweighted)."""
    earlier = "R0" if rnd != "R0" else None
    return [
        Unit(
            f,
            rnd,
            v,
            f.visits.get(earlier) if earlier else None,
            f.visits.get("R0") if earlier else None,
            v.weight if weighting == "weighted" else 1.0,
        )
        for f in firms
        if (v := f.visits.get(rnd)) is not None
    ]


def expected_rows(firms: list[FirmSpec]) -> dict[Key, Row]:
    """Every result with a value, keyed like the stored rows; the group contrasts are named '<first>-<second>'."""
    out: dict[Key, Row] = {}
    for rnd in ROUNDS:
        panel = rnd != "R0"
        for weighting in ("weighted", "unweighted"):
            units = units_of(firms, rnd, weighting)
            groups = [("overall", "all", units)]
            for dim in DIMENSIONS:
                for value in sorted({group_of(u, dim) for u in units}):
                    groups.append((dim, value, [u for u in units if group_of(u, dim) == value]))
            for dim, value, members in groups:
                for code, measure, subject, row in indicators(members, panel):
                    if row is not None:
                        out[(rnd, code, measure, subject, dim, value, weighting)] = row
            for dim, (first, second) in CONTRASTS.items():
                a, b = ([u for u in units if group_of(u, dim) == g] for g in (first, second))
                for code, measure, subject, y in firm_shares(panel):
                    if (code, measure) in CONTRASTED and (row := share_difference(_flags(a, y), _flags(b, y))):
                        label = subject if measure == "share" else measure
                        out[(rnd, code, "difference", label, dim, f"{first}-{second}", weighting)] = row
    return out
