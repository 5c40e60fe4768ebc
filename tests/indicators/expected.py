"""Expected indicator results for the hand-built panel, computed from its plain specs by ../shared/docs/indicators.md.

An independent reference for test_values.py: it reads only the ``FirmSpec`` list and the constants of panel.py, and
does its arithmetic in plain Python with the list-based estimators of app/indicators/stats.py (tested on their own
against the contract's test vectors). Nothing here comes from the SQL implementation.

Readings where the contract leaves a choice (everything else is §1-§3 as written):
- item non-response: a share or mean is over the units whose item is known (a score, the number of buyers, the
  financing source, the main reason of UPG-11); UPG-11's mention shares are over every decision in scope;
- n of a difference of two groups is the sum of their n; UPG-18's n counts the sales to the tier;
- UPG-12 net attractiveness is, as written, mean benefit - mean risk: a difference of two means (Welch), n being
  the decisions with either score;
- the contract does not list which firm shares get group contrasts: those of ``CONTRASTED``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from app.indicators import stats
from app.vocab import FINANCING_SOURCES
from tests.indicators.panel import DEFLATORS, FUNCTIONS, MARKETS, PRACTICES, REASONS, FirmSpec, Visit

ROUNDS = ("R0", "R1")  # R0 is the baseline (round 0) and R1's previous round
TYPES = ("process", "product", "functional", "channel")
APPLIED, EVER_USED = {"adopted", "tried"}, {"adopted", "tried", "abandoned"}
HIGH_VALUE_TIER = MARKETS["exporter"]  # the lowest export tier
DIMENSIONS = ("owner_gender", "size_class", "participant_status", "admin1", "urban_rural")
CONTRASTS = {
    "owner_gender": ("female", "male"),
    "participant_status": ("participant", "comparison"),
    "urban_rural": ("urban", "rural"),
}
CONTRASTED = (  # (code, measure) of the firm shares with group contrasts
    *(("UPG-01", "share"), ("UPG-02", "share"), ("UPG-03", "share"), ("UPG-06", "multi_type_share")),
    *(("UPG-14", "firm_share"), ("UPG-15", "share"), ("UPG-16", "upgrading_rate"), ("UPG-17", "share")),
)
SUBJECTS = {**{p: {p} for p in PRACTICES}, **{t: {p for p, k in PRACTICES.items() if k == t} for t in TYPES}}
SCORES = ("benefit", "cost", "risk")

Key = tuple[str, str, str, str, str, str, str]  # round, code, measure, subject, disaggregation, group, weighting
Items = list[tuple[float, float]]  # (y, w) of the units of a denominator
Flags = list[tuple[bool, float]]


@dataclass(frozen=True)
class Row:
    value: float
    ci_low: float | None
    ci_high: float | None
    n: int
    n_eff: float | None = None  # Kish's, where the contract defines it (a share, a mean)


@dataclass(frozen=True)
class Unit:
    """A firm eligible in round ``rnd``, its interview in the previous round and at baseline, its weight."""

    firm: FirmSpec
    rnd: str
    v: Visit
    prev: Visit | None
    base: Visit | None
    w: float


def share(items: Flags) -> Row | None:
    if not items:
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
    a, b = (stats.mean([x for x, _ in items], [w for _, w in items]) for items in (first, second))
    d = stats.mean_difference(a, b)  # None when a group has fewer than two effective observations
    return Row(a.value - b.value, d.ci.low if d else None, d.ci.high if d else None, a.n + b.n if n is None else n)


def share_difference(first: Flags, second: Flags) -> Row | None:
    if not first or not second:
        return None
    a, b = (stats.share([y for y, _ in items], [w for _, w in items]) for items in (first, second))
    d = stats.share_difference(a, b)
    return Row(d.value, d.ci.low, d.ci.high, a.n + b.n)


def median(items: Items) -> Row | None:
    if not items:
        return None
    return Row(stats.weighted_median([x for x, _ in items], [w for _, w in items]), None, None, len(items))


def point(value: float | None, n: int) -> Row | None:
    return None if value is None else Row(value, None, None, n)


def applied(v: Visit) -> set[str]:
    """Practices applied (adopted or tried); a catalogue practice without a decision is not applied."""
    return {d.practice for d in v.decisions if d.status in APPLIED}


def types_of(practices: set[str]) -> set[str]:
    return {PRACTICES[p] for p in practices}


def aware(v: Visit) -> set[str]:
    return {d.practice for d in v.decisions if d.aware or d.status in EVER_USED}


def top_tier(v: Visit) -> int:
    return max((MARKETS[m] for m, _, _ in v.sale_rows), default=0)


def top_rank(v: Visit | None) -> int | None:
    return None if v is None else max((FUNCTIONS[f] for f in v.functions), default=None)


def group_of(u: Unit, dim: str) -> str:
    workers = u.v.family + u.v.hired  # family workers include the owner
    size = "micro" if workers <= 4 else "small" if workers <= 20 else "medium" if workers <= 100 else "large"
    return {
        "owner_gender": u.v.sex,
        "size_class": size,
        "participant_status": u.v.participant,
        "admin1": u.firm.admin1,
        "urban_rural": u.firm.urban,
    }[dim]


def unit_price(v: Visit, rnd: str) -> float | None:
    priced = [(qty, value) for _, qty, value in v.sale_rows if qty > 0]
    qty = sum(q for q, _ in priced)
    return sum(value for _, value in priced) / qty * DEFLATORS[rnd] if qty > 0 else None


OUTCOMES: dict[str, Callable[[Visit, str], float | None]] = {  # deflated to baseline prices
    "sales": lambda v, rnd: v.sales * DEFLATORS[rnd],
    "net_income": lambda v, rnd: float(Decimal(str(v.sales)) - Decimal(str(v.inputs))) * DEFLATORS[rnd],
    "unit_price": unit_price,
}


def change(u: Unit, y: str) -> float | None:
    """D_i = Y*(r) - Y*(r0) of a firm eligible in both."""
    now, before = OUTCOMES[y](u.v, u.rnd), OUTCOMES[y](u.base, "R0") if u.base else None
    return None if now is None or before is None else now - before


FirmShare = tuple[str, str, str, Callable[[Unit], bool | None]]  # code, measure, subject, y (None: not counted)


def firm_shares(panel: bool) -> list[FirmShare]:
    def breadth(u: Unit) -> int:
        return len(types_of(applied(u.v)))

    def sustained(u: Unit) -> set[str]:
        return {PRACTICES[d.practice] for d in u.v.decisions if d.status == "adopted"}

    specs: list[FirmShare] = []
    for t in TYPES:
        specs.append(("UPG-01", "share", t, lambda u, t=t: t in types_of(applied(u.v))))  # type: ignore[misc]
        specs.append(("UPG-02", "share", t, lambda u, t=t: t in sustained(u)))  # type: ignore[misc]
        specs.append(("UPG-10", "aware_share", t, lambda u, t=t: t in types_of(aware(u.v))))  # type: ignore[misc]
    specs.append(("UPG-03", "share", "", lambda u: bool(applied(u.v))))
    specs += [("UPG-06", "share_at", str(b), lambda u, b=b: breadth(u) == b) for b in range(5)]  # type: ignore[misc]
    specs.append(("UPG-06", "multi_type_share", "", lambda u: breadth(u) >= 2))
    specs.append(("UPG-14", "firm_share", "", lambda u: top_tier(u.v) >= HIGH_VALUE_TIER))
    specs.append(("UPG-17", "share", "embedded_services", lambda u: u.v.embedded))
    specs.append(("UPG-17", "share", "written_contract", lambda u: u.v.contract))
    specs.append(("UPG-17", "share", "two_or_more_buyers", lambda u: None if u.v.buyers is None else u.v.buyers >= 2))
    if panel:  # over firms eligible in r-1 and r
        specs.append(("UPG-15", "share", "", lambda u: None if u.prev is None else top_tier(u.v) > top_tier(u.prev)))
        specs.append(("UPG-16", "upgrading_rate", "", _function_up))
    return specs


def _function_up(u: Unit) -> bool | None:
    before, now = top_rank(u.prev), top_rank(u.v)
    return None if before is None or now is None else now > before


def flags(units: list[Unit], y: Callable[[Unit], bool | None]) -> Flags:
    return [(flag, u.w) for u in units if (flag := y(u)) is not None]


Result = tuple[str, str, str, Row | None]


def indicators(units: list[Unit], panel: bool) -> Iterator[Result]:
    """Every indicator over one group of eligible firms."""
    for code, measure, subject, y in firm_shares(panel):
        yield code, measure, subject, share(flags(units, y))
    for function in (upg04_10, upg05_06, upg07_08_09, upg11, upg12, upg13, upg14_16, upg18, returns):
        yield from function(units, panel)


def upg04_10(units: list[Unit], _panel: bool) -> Iterator[Result]:
    for subject, practices in SUBJECTS.items():
        did, knew = (share([(bool(f(u.v) & practices), u.w) for u in units]) for f in (applied, aware))
        if subject in PRACTICES:
            yield "UPG-04", "share", subject, did
            yield "UPG-04", "count", subject, point(sum(u.w for u in units if subject in applied(u.v)), len(units))
            yield "UPG-10", "aware_share", subject, knew  # by type: with the firm shares
        if did and knew:
            yield "UPG-10", "gap", subject, point(knew.value - did.value, len(units))


def upg05_06(units: list[Unit], _panel: bool) -> Iterator[Result]:
    counts = [(float(len(applied(u.v))), u.w) for u in units]
    yield "UPG-05", "mean", "", mean(counts)
    yield "UPG-05", "mean_among_appliers", "", mean([(x, w) for x, w in counts if x >= 1])
    yield "UPG-05", "index", "", mean(counts, 1 / len(PRACTICES))
    yield "UPG-06", "mean", "", mean([(float(len(types_of(applied(u.v)))), u.w) for u in units])


def upg07_08_09(units: list[Unit], panel: bool) -> Iterator[Result]:
    now = {(id(u), d.practice): d for u in units for d in u.v.decisions}  # no decision: neither applied nor adopted
    for subject, practices in SUBJECTS.items():
        used = [(u, d) for u in units for d in u.v.decisions if d.practice in practices and d.status in EVER_USED]
        yield "UPG-07", "share", subject, share([(d.status == "abandoned", u.w) for u, d in used])
        if not panel:
            continue
        pairs = [(u, d, now.get((id(u), d.practice))) for u in units if u.prev for d in u.prev.decisions]
        pairs = [(u, d, after) for u, d, after in pairs if d.practice in practices]
        dropped = [(after is None or not after.applied, u.w) for u, d, after in pairs if d.applied]
        tried = [(after is not None and after.status == "adopted", u.w) for u, d, after in pairs if d.status == "tried"]
        yield "UPG-08", "share", subject, share(dropped)
        yield "UPG-09", "share", subject, share(tried)


def upg11(units: list[Unit], _panel: bool) -> Iterator[Result]:
    """Over decisions not adopted by a firm aware of the practice, or abandoned."""
    decisions = [(d, u.w) for u in units for d in u.v.decisions]
    scope = [(d, w) for d, w in decisions if d.status == "abandoned" or (d.status == "not_adopted" and d.aware)]
    with_main = [(d, w) for d, w in scope if d.main is not None]
    for reason in REASONS:
        yield "UPG-11", "main_share", reason, share([(d.main == reason, w) for d, w in with_main])
        yield "UPG-11", "mention_share", reason, share([(reason in {d.main, *d.others}, w) for d, w in scope])
    for category in set(REASONS.values()):
        mains = [(REASONS.get(d.main or "") == category, w) for d, w in with_main]
        yield "UPG-11", "category_share", category, share(mains)


def upg12(units: list[Unit], _panel: bool) -> Iterator[Result]:
    """Scores of the decisions applied, and of those not applied."""
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


def upg13(units: list[Unit], _panel: bool) -> Iterator[Result]:
    """Among decisions applied in the round: median deflated investment cost; shares by financing source."""
    done = [(d, u) for u in units for d in u.v.decisions if d.applied]
    costs = [(d.invest * DEFLATORS[u.rnd], u.w) for d, u in done if d.invest is not None]
    yield "UPG-13", "median", "investment_cost", median(costs)
    known = [(d.finance, u.w) for d, u in done if d.finance is not None]
    for source in FINANCING_SOURCES:  # every source of the vocabulary: one nobody used has share 0
        yield "UPG-13", "share", source, share([(f == source, w) for f, w in known])


def upg14_16(units: list[Unit], panel: bool) -> Iterator[Result]:
    selling = [u for u in units if u.v.sale_rows]
    high = sum(u.w * val for u in selling for m, _, val in u.v.sale_rows if MARKETS[m] >= HIGH_VALUE_TIER)
    total = sum(u.w * val for u in selling for _, _, val in u.v.sale_rows)
    yield "UPG-14", "value_share", "", point(high / total if total else None, len(selling))
    ranked = [(rank, u.w) for u in units if (rank := top_rank(u.v)) is not None]
    for function, rank in FUNCTIONS.items():
        yield "UPG-16", "share", function, share([(r == rank, w) for r, w in ranked])
    if not panel:
        return
    moves = [(top_rank(u.prev), top_rank(u.v), u.w) for u in units]
    for f_before, r_before in FUNCTIONS.items():  # the matrix r-1 -> r, each row a distribution over r's function
        row = [(after, w) for before, after, w in moves if before == r_before and after is not None]
        for f_after, r_after in FUNCTIONS.items():
            yield "UPG-16", "transition_share", f"{f_before}>{f_after}", share([(a == r_after, w) for a, w in row])


def upg18(units: list[Unit], _panel: bool) -> Iterator[Result]:
    prices: dict[int, tuple[float, int]] = {}
    for tier in sorted(set(MARKETS.values())):
        rows = [(u, qty, val) for u in units for m, qty, val in u.v.sale_rows if MARKETS[m] == tier and qty > 0]
        qty = sum(u.w * q for u, q, _ in rows)
        if qty > 0:
            prices[tier] = (sum(u.w * val * DEFLATORS[u.rnd] for u, _, val in rows) / qty, len(rows))
            yield "UPG-18", "unit_price", f"tier {tier}", point(*prices[tier])
    for tier, (price, n) in prices.items():
        lowest = prices[min(prices)][0]
        yield "UPG-18", "premium", f"tier {tier}", point(price / lowest - 1 if lowest else None, n)
    valued = [(MARKETS[m], u.w * val) for u in units for m, _qty, val in u.v.sale_rows]
    total = sum(v for _, v in valued)
    for tier in sorted({t for t, _ in valued}):
        in_tier = [v for t, v in valued if t == tier]
        yield "UPG-18", "value_share", f"tier {tier}", point(sum(in_tier) / total if total else None, len(in_tier))


def returns(units: list[Unit], panel: bool) -> Iterator[Result]:
    """Mean Y* of firms that applied >= 1 practice (any, or of the type) - mean Y* of firms that applied none."""
    for y, outcome in OUTCOMES.items():
        values = [(u, x) for u in units if (x := outcome(u.v, u.rnd)) is not None]
        none = [(x, u.w) for u, x in values if not applied(u.v)]
        yield "RET-01", "difference", f"{y}:any", mean_difference([(x, u.w) for u, x in values if applied(u.v)], none)
        for t in TYPES:
            appliers = [(x, u.w) for u, x in values if t in types_of(applied(u.v))]
            yield "RET-01", "difference", f"{y}:{t}", mean_difference(appliers, none)
        if not panel:
            continue  # RET-02/03: over firms eligible at baseline and in r, the change D_i and its group differences
        changes = [(u, (d, u.w)) for u in units if (d := change(u, y)) is not None]
        yield "RET-02", "mean", y, mean([item for _, item in changes])
        yield "RET-02", "median", y, median([item for _, item in changes])
        part = [[item for u, item in changes if u.v.participant == status] for status in ("participant", "comparison")]
        yield "RET-03", "did", y, mean_difference(part[0], part[1])
        app = [[item for u, item in changes if bool(applied(u.v)) is flag] for flag in (True, False)]
        yield "RET-03", "did_associational", y, mean_difference(app[0], app[1])


def units_of(firms: list[FirmSpec], rnd: str, weighting: str) -> list[Unit]:
    """S(c, r): the firms interviewed in round r, with the weight of round r (1 when unweighted)."""
    eligible, weighted = [(f, v) for f in firms if (v := f.visits.get(rnd)) is not None], weighting == "weighted"
    before = {"R1": "R0"}.get(rnd, "")  # R1's previous round, and its baseline
    return [
        Unit(f, rnd, v, f.visits.get(before), f.visits.get(before), v.weight if weighted else 1.0) for f, v in eligible
    ]


def expected_rows(firms: list[FirmSpec]) -> dict[Key, Row]:
    """Every result with a value, keyed like the stored rows; group contrasts are the groups '<first>-<second>'."""
    out: dict[Key, Row] = {}
    for rnd, weighting in ((rnd, weighting) for rnd in ROUNDS for weighting in ("weighted", "unweighted")):
        panel, units = rnd != "R0", units_of(firms, rnd, weighting)
        groups = {(dim, group_of(u, dim)) for u in units for dim in DIMENSIONS}
        for dim, value in [("overall", "all"), *sorted(groups)]:
            members = [u for u in units if dim == "overall" or group_of(u, dim) == value]
            for code, measure, subject, row in indicators(members, panel):
                if row is not None:
                    out[(rnd, code, measure, subject, dim, value, weighting)] = row
        for dim, (first, second) in CONTRASTS.items():
            a, b = ([u for u in units if group_of(u, dim) == g] for g in (first, second))
            for code, measure, subject, y in firm_shares(panel):
                if (code, measure) in CONTRASTED and (row := share_difference(flags(a, y), flags(b, y))):
                    label = subject if measure == "share" else measure
                    out[(rnd, code, "difference", label, dim, f"{first}-{second}", weighting)] = row
    return out
