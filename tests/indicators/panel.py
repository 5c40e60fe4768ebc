"""A small hand-built panel for the indicator tests: plain Python specs, a mapped form, and a loader that stores
them through the real submission pipeline (OpenRosa POST → processing → domain rows).

The test chain TC has one practice of each upgrading type, three functions (ranks 1-3), three end markets
(tiers 1-3; tier 3 is the export market and so the high-value threshold) and two rounds (R0 baseline, R1 with a
deflator of 0.8). Firm attributes are drawn from a seeded generator, so every run builds the same data.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from typing import Any

PRACTICES = {"TC-PROC": "process", "TC-PROD": "product", "TC-FUNC": "functional", "TC-CHAN": "channel"}
FUNCTIONS = {"produce": 1, "grade": 2, "export": 3}
MARKETS = {"broker": 1, "local": 2, "exporter": 3}
REASONS = {"too_expensive": "cost_finance", "not_aware": "information", "too_risky": "risk"}
DEFLATORS = {"R0": 1.0, "R1": 0.8}
STATUSES = ("adopted", "tried", "abandoned", "not_adopted")
FINANCING = ("own_savings", "buyer_credit", "group")

CATALOGUE: dict[str, Any] = {
    "reasons": [{"code": c, "label": c, "label_fr": c, "category": cat} for c, cat in REASONS.items()],
    "chains": [
        {
            "code": "TC",
            "name": "Test chain",
            "name_fr": "Chaîne de test",
            "country_iso3": "KEN",
            "product": "test",
            "sector": "agriculture",
            "currency": "KES",
            "illustrative": True,
            "functions": [{"code": c, "name": c, "name_fr": c, "rank": r} for c, r in FUNCTIONS.items()],
            "end_markets": [
                {"code": c, "name": c, "name_fr": c, "tier": t, "export": c == "exporter"} for c, t in MARKETS.items()
            ],
            "practices": [
                {
                    "code": code,
                    "name": code,
                    "name_fr": code,
                    "type": kind,
                    "target_function": "grade" if kind == "functional" else None,
                    "target_end_market": "exporter" if kind == "channel" else None,
                }
                for code, kind in PRACTICES.items()
            ],
        }
    ],
}

FORM = b"""
| survey |
|        | type                 | name      | label     | bind::chainlift:field            | bind::chainlift:values |
|        | end                  | end       |           | interview.end                    |                        |
|        | text                 | round     | Round     | interview.round                  |                        |
|        | select_one yn        | consent   | Consent   | interview.consent                | 1=yes 0=no             |
|        | text                 | chain     | Chain     | firm.value_chain                 |                        |
|        | text                 | panel     | Panel     | firm.panel_code                  |                        |
|        | text                 | fname     | Name      | firm.name                        |                        |
|        | text                 | admin1    | Area      | firm.admin1                      |                        |
|        | text                 | urban     | Urban     | firm.urban_rural                 |                        |
|        | text                 | part      | Part      | firm.participant_status          |                        |
|        | text                 | sex       | Sex       | owner.sex                        |                        |
|        | text                 | functions | Functions | observation.functions            |                        |
|        | integer              | family    | Family    | observation.workers_family       |                        |
|        | integer              | hired     | Hired     | observation.workers_hired        |                        |
|        | decimal              | sales     | Sales     | observation.sales_value          |                        |
|        | decimal              | inputs    | Inputs    | observation.input_cost           |                        |
|        | select_one yn        | embedded  | Embedded  | observation.received_embedded_services | 1=yes 0=no       |
|        | select_one yn        | contract  | Contract  | observation.has_written_contract | 1=yes 0=no             |
|        | integer              | buyers    | Buyers    | observation.number_of_buyers     |                        |
|        | begin_repeat         | sale      | Sale      |                                  |                        |
|        | text                 | market    | Market    | sale.end_market                  |                        |
|        | decimal              | qty       | Qty       | sale.qty                         |                        |
|        | decimal              | value     | Value     | sale.value                       |                        |
|        | end_repeat           |           |           |                                  |                        |
|        | begin_repeat         | dec       | Practice  |                                  |                        |
|        | text                 | practice  | Practice  | decision.practice                |                        |
|        | select_one yn        | aware     | Aware     | decision.aware                   | 1=yes 0=no             |
|        | text                 | status    | Status    | decision.status                  |                        |
|        | integer              | first     | First     | decision.first_year              |                        |
|        | integer              | last      | Last      | decision.last_year               |                        |
|        | decimal              | invest    | Invest    | decision.investment_cost         |                        |
|        | text                 | finance   | Finance   | decision.financing_source        |                        |
|        | integer              | benefit   | Benefit   | decision.benefit                 |                        |
|        | integer              | cost      | Cost      | decision.cost                    |                        |
|        | integer              | risk      | Risk      | decision.risk                    |                        |
|        | text                 | main      | Main      | decision.main_reason             |                        |
|        | text                 | others    | Others    | decision.other_reasons           |                        |
|        | end_repeat           |           |           |                                  |                        |
| choices |
|         | list_name | name | label |
|         | yn        | 1    | Yes   |
|         | yn        | 0    | No    |
| settings |
|          | form_id  | version | namespaces |
|          | tc_panel | 1       | chainlift="https://chainlift.org/xforms/mapping" |
"""


@dataclass
class DecisionSpec:
    practice: str
    status: str
    aware: bool
    benefit: int | None
    cost: int | None
    risk: int | None
    invest: float | None
    finance: str | None
    main: str | None
    others: list[str] = field(default_factory=list)

    @property
    def applied(self) -> bool:
        return self.status in {"adopted", "tried"}


@dataclass
class Visit:
    """One firm in one round: what the interview says."""

    participant: str
    weight: float
    sex: str
    family: int
    hired: int
    sales: float
    inputs: float
    embedded: bool
    contract: bool
    buyers: int | None
    functions: list[str]
    sale_rows: list[tuple[str, float, float]]  # market, qty, value
    decisions: list[DecisionSpec]


@dataclass
class FirmSpec:
    name: str
    admin1: str
    urban: str
    visits: dict[str, Visit]
    panel_code: str = ""


def _decision(rng: random.Random, practice: str, participant: bool) -> DecisionSpec | None:
    if rng.random() < 0.15:
        return None  # not asked: counts as not applied
    weights = (4, 3, 2, 5) if participant else (2, 2, 2, 8)
    status = rng.choices(STATUSES, weights=weights)[0]
    aware = status != "not_adopted" or rng.random() < 0.6
    scores = [rng.randint(1, 5) if rng.random() < 0.9 else None for _ in range(3)]
    applied = status in {"adopted", "tried"}
    invest = round(rng.uniform(50, 900), 2) if status != "not_adopted" and rng.random() < 0.8 else None
    finance = rng.choice(FINANCING) if applied and rng.random() < 0.85 else None
    main = others = None
    if status == "abandoned" or (status == "not_adopted" and aware):
        main = rng.choice(list(REASONS)) if rng.random() < 0.9 else None
        others = [r for r in REASONS if r != main and rng.random() < 0.3]
    benefit, cost, risk = scores
    return DecisionSpec(practice, status, aware, benefit, cost, risk, invest, finance, main, others or [])


def _visit(rng: random.Random, participant: str, sex: str, round_code: str, weighted: bool) -> Visit:
    is_participant = participant == "participant"
    sales = round(rng.lognormvariate(7 + (0.3 if is_participant and round_code == "R1" else 0), 0.6), 2)
    markets = rng.sample(list(MARKETS), k=rng.randint(1, 2))
    sale_rows = [(m, round(rng.uniform(5, 50), 1), round(sales / len(markets), 2)) for m in markets]
    decisions = [d for p in PRACTICES if (d := _decision(rng, p, is_participant)) is not None]
    return Visit(
        participant=participant,
        weight=rng.choice((0.5, 1.0, 2.0, 3.0)) if weighted else 1.0,
        sex=sex,
        family=rng.randint(1, 4),
        hired=rng.choice((0, 0, 0, 1, 3, 20)),
        sales=sales,
        inputs=round(sales * rng.uniform(0.2, 0.7), 2),
        embedded=rng.random() < 0.4,
        contract=rng.random() < 0.3,
        buyers=rng.randint(1, 4) if rng.random() < 0.9 else None,
        functions=sorted(rng.sample(list(FUNCTIONS), k=rng.randint(1, 3))),
        sale_rows=sale_rows,
        decisions=decisions,
    )


def make_panel(seed: int = 7, firms: int = 60, weighted: bool = True) -> list[FirmSpec]:
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    out: list[FirmSpec] = []
    for i in range(firms):
        participant = "participant" if rng.random() < 0.6 else "comparison"
        sex = rng.choice(("female", "male"))
        visits = {"R0": _visit(rng, participant, sex, "R0", weighted)}
        if rng.random() < 0.85:  # attrition
            visits["R1"] = _visit(rng, participant, sex, "R1", weighted)
        spec = FirmSpec(f"Firm {i:03d}", rng.choice(("North", "South")), rng.choice(("urban", "rural")), visits)
        out.append(spec)
    return out


def _yn(value: bool | None) -> str:
    return "" if value is None else ("1" if value else "0")


def _v(value: object) -> str:
    return "" if value is None else str(value)


def instance(firm: FirmSpec, round_code: str) -> bytes:
    v = firm.visits[round_code]
    sales = "".join(f"<sale><market>{m}</market><qty>{q}</qty><value>{val}</value></sale>" for m, q, val in v.sale_rows)
    decisions = "".join(
        f"<dec><practice>{d.practice}</practice><aware>{_yn(d.aware)}</aware><status>{d.status}</status>"
        f"<first>{'2024' if d.status != 'not_adopted' else ''}</first>"
        f"<last>{'2025' if d.status == 'abandoned' else ''}</last>"
        f"<invest>{_v(d.invest)}</invest><finance>{_v(d.finance)}</finance><benefit>{_v(d.benefit)}</benefit>"
        f"<cost>{_v(d.cost)}</cost><risk>{_v(d.risk)}</risk><main>{_v(d.main)}</main>"
        f"<others>{' '.join(d.others)}</others></dec>"
        for d in v.decisions
    )
    return (
        f'<data id="tc_panel" version="1"><end>2026-06-01T10:00:00.000+00:00</end><round>{round_code}</round>'
        f"<consent>1</consent><chain>TC</chain><panel>{firm.panel_code}</panel><fname>{firm.name}</fname>"
        f"<admin1>{firm.admin1}</admin1><urban>{firm.urban}</urban><part>{v.participant}</part><sex>{v.sex}</sex>"
        f"<functions>{' '.join(v.functions)}</functions><family>{v.family}</family><hired>{v.hired}</hired>"
        f"<sales>{v.sales}</sales><inputs>{v.inputs}</inputs><embedded>{_yn(v.embedded)}</embedded>"
        f"<contract>{_yn(v.contract)}</contract><buyers>{_v(v.buyers)}</buyers>{sales}{decisions}"
        f"<meta><instanceID>uuid:{uuid.uuid4()}</instanceID></meta></data>"
    ).encode()
