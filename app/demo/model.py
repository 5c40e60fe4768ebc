"""What the panel generator takes (a plain description of the catalogue and the rounds) and what it returns.

Plain dataclasses: no database, no Flask. Money is in the chain's local currency; ``*_real`` amounts are in
baseline prices (nominal x the round's deflator to base, as the server deflates them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

UPGRADING_TYPES = ("process", "product", "functional", "channel")  # the order of practices.csv


# -- input -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunctionSpec:
    code: str
    rank: int  # value added: higher = more


@dataclass(frozen=True)
class MarketSpec:
    code: str
    tier: int  # higher = higher-value market
    is_export: bool = False


@dataclass(frozen=True)
class PracticeSpec:
    code: str
    type: str  # process | product | functional | channel
    name: str = ""
    name_fr: str = ""
    target_function: str | None = None  # functional practices
    target_end_market: str | None = None  # channel practices


@dataclass(frozen=True)
class ChainSpec:
    code: str
    sector: str  # agriculture | handicraft | other
    country_iso3: str
    currency: str
    product: str
    functions: tuple[FunctionSpec, ...]
    end_markets: tuple[MarketSpec, ...]
    practices: tuple[PracticeSpec, ...]

    def ordered_practices(self) -> list[PracticeSpec]:
        """The order of the server's practices.csv, which is the order of the form's decision repeat."""
        return sorted(self.practices, key=lambda p: (UPGRADING_TYPES.index(p.type), p.code))


@dataclass(frozen=True)
class ReasonSpec:
    code: str
    category: str


@dataclass(frozen=True)
class RoundSpec:
    code: str
    number: int  # 0 = baseline
    deflator: float  # to baseline prices: real = nominal x deflator
    reference_start: dt.date
    reference_end: dt.date

    @property
    def fieldwork_start(self) -> dt.date:
        """Interviews start ten days after the reference period ends."""
        return self.reference_end + dt.timedelta(days=10)


@dataclass(frozen=True)
class FormSpec:
    form_id: str
    version: str


@dataclass(frozen=True)
class PanelParams:
    """The knobs of ../shared/docs/domain.md §5.2. ``effect`` is the true effect of participation on real net
    income at endline, as a share of the chain's baseline mean real net income (0.2 = +20 %)."""

    chains: int = 9
    firms: int = 300  # per chain, at baseline
    spread: float = 0.15  # each chain's size is drawn uniformly within firms x (1 ± spread)
    effect: float = 0.2
    seed: int = 1


# -- output ------------------------------------------------------------------------------------------------


@dataclass
class Sale:
    end_market: str
    buyer_type: str
    qty: int
    value: int  # nominal
    contract: bool
    services: tuple[str, ...]


@dataclass
class Decision:
    practice: str
    practice_en: str
    practice_fr: str
    aware: bool
    status: str | None = None  # None when not aware
    first_year: int | None = None
    last_year: int | None = None
    scale_share: int | None = None
    investment_cost: int | None = None
    financing_source: str | None = None
    information_source: str | None = None
    benefit: int | None = None
    cost: int | None = None
    risk: int | None = None
    main_reason: str | None = None
    other_reasons: tuple[str, ...] = ()


@dataclass
class Firm:
    """A panel firm as registered at baseline. ``name`` is unique in the panel: it finds the firm's panel code."""

    key: str  # e.g. KE-AVO#0007: the generator's own id, not the server's panel code
    chain: str
    sector: str
    participant: bool
    name: str
    phone: str
    owner_name: str
    owner_sex: str
    owner_birth_year: int
    owner_education: str
    admin1: str
    admin2: str
    admin3: str
    urban_rural: str
    gps: str
    year_started: int
    legal_status: str
    group_member: bool
    micro: bool  # 1-4 workers including the owner
    rounds: list[int] = field(default_factory=list)  # round numbers it was interviewed in


@dataclass
class Interview:
    firm: Firm
    round: RoundSpec
    instance_id: str
    start: dt.datetime
    end: dt.datetime
    enumerator: str
    device_id: str
    respondent_role: str
    owner_age: int
    functions: tuple[str, ...]
    workers_family: int
    workers_hired: int
    workers_female: int
    scale_units: float
    scale_unit: str
    production_qty: int
    production_unit: str
    number_of_buyers: int
    sales: list[Sale]
    received_training: bool
    received_embedded_services: bool
    credit_received: bool
    credit_amount: int | None
    credit_source: str | None
    decisions: list[Decision]
    sales_value: int  # nominal, local currency, the reference period
    input_cost: int
    hired_labour_cost: int
    other_costs: int

    @property
    def net_income(self) -> int:
        """What the form calculates and the server stores: sales - costs, nominal."""
        return self.sales_value - self.input_cost - self.hired_labour_cost - self.other_costs

    @property
    def net_income_real(self) -> float:
        """Net income in baseline prices, as the server deflates it."""
        return self.net_income * self.round.deflator

    @property
    def workers_total(self) -> int:
        return self.workers_family + self.workers_hired


@dataclass
class GeneratedChain:
    spec: ChainSpec
    firms: list[Firm]
    participant_share: float
    female_share: float
    true_did_net_income: float  # endline vs baseline, participants vs comparison, baseline prices


@dataclass
class GeneratedPanel:
    params: PanelParams
    form: FormSpec
    rounds: list[RoundSpec]
    chains: list[GeneratedChain]
    interviews: dict[int, list[Interview]]  # by round number, baseline first

    @property
    def firms(self) -> list[Firm]:
        return [firm for chain in self.chains for firm in chain.firms]

    @property
    def true_did_net_income(self) -> Mapping[str, float]:
        """The true DiD of real net income (endline - baseline, participants - comparison) by chain code.

        One number per chain: chains keep their own currencies, so a pooled figure would add shillings to
        quetzales."""
        return {chain.spec.code: chain.true_did_net_income for chain in self.chains}

    def all_interviews(self) -> list[Interview]:
        return [i for number in sorted(self.interviews) for i in self.interviews[number]]
