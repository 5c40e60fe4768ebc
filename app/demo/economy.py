"""Workers, money, sales by end market and services of a synthetic firm in one round.

Money model (in baseline prices): a firm has a permanent sales level P (log-normal, scaled by its workers: a
right tail) and a cost share c. In round k its sales are P · exp(g·years + ε) with ε ~ N(-σ²/2, σ²) and its costs
c times that; a participant's sales carry, on top, the programme's effect times the round's progress (0 at
baseline, 1 at endline), with costs unchanged. Nominal amounts are the real ones divided by the round's
deflator, rounded to whole units, so the server's deflated net income is the designed one.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from app.demo.model import ChainSpec, MarketSpec, Sale
from app.demo.places import Product

REAL_GROWTH = 0.03  # per year, both groups
NOISE = 0.12  # of log sales, per round
SERVICES = ("inputs_on_credit", "technical_assistance", "grading_info", "transport", "prepayment")
BUYERS = (
    ("broker", "broker"),
    ("intermediary", "trader"),
    ("trader", "trader"),
    ("export", "exporter"),
    ("processor", "processor"),
    ("ginnery", "processor"),
    ("outgrower", "processor"),
    ("abattoir", "processor"),
    ("butcher", "retailer"),
    ("supermarket", "retailer"),
    ("corporate", "retailer"),
    ("institutional", "retailer"),
    ("retail", "consumer"),
    ("wholesale", "trader"),
    ("auction", "trader"),
)


@dataclass
class Business:
    """What stays with a firm across rounds."""

    workers_family: int
    workers_hired: int
    micro: bool
    level: float  # permanent real sales, local currency
    cost_share: float
    scale: float
    base_market: MarketSpec
    second_market: MarketSpec | None
    link_draw: float  # a higher-tier buyer link appears once the round's chance exceeds it
    extra_functions: tuple[str, ...]
    group_member: bool
    hired: list[int] = field(default_factory=list)


def new_business(
    rng: random.Random, chain: ChainSpec, product: Product, usd_rate: float, *, micro: bool, group_member: bool
) -> Business:
    if micro:
        total = rng.choices((1, 2, 3, 4), (30, 32, 22, 16))[0]
        family = rng.randint(1, total)
    else:
        total = rng.randint(5, 14)
        family = rng.randint(1, 4)
    markets = sorted(chain.end_markets, key=lambda m: m.tier)
    base = markets[rng.choices(range(min(3, len(markets))), (55, 35, 10)[: min(3, len(markets))])[0]]
    others = [m for m in markets[:3] if m != base]
    second = rng.choice(others) if others and rng.random() < 0.4 else None
    level = product.median_sales_usd * usd_rate * (total / 1.8) ** 0.7 * rng.lognormvariate(0, 0.75)
    functions = sorted(chain.functions, key=lambda f: f.rank)
    production = next((f for f in functions if f.code == "production"), functions[0])
    below = [f.code for f in functions if f.rank < production.rank]
    above = [f.code for f in functions if f.rank > production.rank][:1]
    extra = (*(below if below and rng.random() < 0.25 else []), *(above if above and rng.random() < 0.08 else []))
    return Business(
        workers_family=family,
        workers_hired=total - family,
        micro=micro,
        level=level,
        cost_share=rng.uniform(0.35, 0.6),
        scale=product.scale_per_worker * total * rng.lognormvariate(0, 0.4),
        base_market=base,
        second_market=second,
        link_draw=rng.random(),
        extra_functions=(production.code, *extra),
        group_member=group_member,
    )


def next_workers(rng: random.Random, business: Business) -> None:
    """Hired workers change a little between rounds; a micro firm stays micro and a small one small."""
    if rng.random() < 0.25:
        hired = business.workers_hired + rng.choice((-1, 1))
        total = business.workers_family + hired
        if hired >= 0 and (total <= 4 if business.micro else total >= 5):
            business.workers_hired = hired


@dataclass(frozen=True)
class Money:
    sales: int
    input_cost: int
    hired_labour_cost: int
    other_costs: int


def money(rng: random.Random, business: Business, *, years: float, extra_real: float, deflator: float) -> Money:
    """Nominal amounts for one round. ``extra_real`` is the programme's effect on sales, in baseline prices."""
    shock = rng.gauss(-(NOISE**2) / 2, NOISE)
    sales_real = business.level * math.exp(REAL_GROWTH * years + shock)
    costs_real = business.cost_share * sales_real
    labour_real = costs_real * rng.uniform(0.2, 0.45) if business.workers_hired else 0.0
    input_real = (costs_real - labour_real) * rng.uniform(0.5, 0.75)
    other_real = costs_real - labour_real - input_real
    return Money(
        sales=round((sales_real + extra_real) / deflator),
        input_cost=round(input_real / deflator),
        hired_labour_cost=round(labour_real / deflator),
        other_costs=round(other_real / deflator),
    )


def buyer_type(market: MarketSpec, rng: random.Random) -> str:
    for word, kind in BUYERS:
        if word in market.code:
            return kind
    return rng.choice(("trader", "consumer"))


def sales(
    rng: random.Random,
    chain: ChainSpec,
    business: Business,
    product: Product,
    *,
    total: int,
    deflator: float,
    link_chance: float,
    channel_targets: list[str],
    usd_rate: float,
) -> list[Sale]:
    """The firm's sales split by end market: its usual markets, a higher-tier buyer if it has the link, and the
    markets its channel upgrades opened. Values add up to ``total``."""
    markets = sorted(chain.end_markets, key=lambda m: m.tier)
    top = markets[len(markets) // 2 :]
    chosen = [business.base_market]
    if business.second_market is not None:
        chosen.append(business.second_market)
    if business.link_draw < link_chance and top:
        chosen.append(top[int(business.link_draw * 1000) % len(top)])
    chosen += [m for m in markets if m.code in channel_targets]
    chosen = list(dict.fromkeys(chosen))
    weights = [1.0] + [rng.uniform(0.3, 1.0) for _ in chosen[1:]]
    values = [int(total * w / sum(weights)) for w in weights]
    values[0] += total - sum(values)
    out = []
    for market, value in zip(chosen, values, strict=True):
        high = market in top
        premium = 1 + 0.12 * markets.index(market)
        price = product.unit_price_usd * usd_rate * premium / deflator
        contract = "contract" in market.code or "outgrower" in market.code or (high and rng.random() < 0.35)
        services = tuple(s for s in SERVICES if rng.random() < (0.3 if high else 0.04))
        out.append(Sale(market.code, buyer_type(market, rng), max(1, round(value / price)), value, contract, services))
    return out
