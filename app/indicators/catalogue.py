"""The indicator catalogue of ../shared/docs/indicators.md §3: codes, definitions, measures and units.

Served by ``GET /api/v1/indicators/catalogue``; the codes are stable and used by the API, exports and pages.
"""

from __future__ import annotations

from dataclasses import dataclass, field

METHOD_VERSION = "2026.12-1"  # bump when a definition or method changes: stored results say which one made them

DISAGGREGATIONS = ("overall", "owner_gender", "size_class", "participant_status", "admin1", "urban_rural")
CONTRASTS = {  # differences of two groups, with Newcombe (shares) or Welch (means) intervals
    "owner_gender": ("female", "male"),
    "participant_status": ("participant", "comparison"),
    "urban_rural": ("urban", "rural"),
}
SIZE_CLASSES = ((4, "micro"), (20, "small"), (100, "medium"))  # workers incl. the owner; above: large
WEIGHTINGS = ("weighted", "unweighted")


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    definition: str
    level: str  # firm, decision, sale, panel
    ci: str
    measures: dict[str, str] = field(default_factory=dict)  # measure -> unit
    subjects: str = ""
    panel: bool = False


CATALOGUE: tuple[Indicator, ...] = (
    Indicator(
        "UPG-01",
        "Adoption rate, by type",
        "Share of eligible firms that applied (adopted or tried) at least one practice of the type.",
        "firm",
        "Wilson",
        {"share": "share", "difference": "share"},
        "upgrading type",
    ),
    Indicator(
        "UPG-02",
        "Sustained adoption rate, by type",
        "As UPG-01, counting status adopted only.",
        "firm",
        "Wilson",
        {"share": "share", "difference": "share"},
        "upgrading type",
    ),
    Indicator(
        "UPG-03",
        "Any-upgrading rate",
        "Share of eligible firms that applied at least one practice of any type.",
        "firm",
        "Wilson",
        {"share": "share", "difference": "share"},
    ),
    Indicator(
        "UPG-04",
        "Practice adoption",
        "Per practice: share of eligible firms that applied it, and the weighted count of those firms "
        "(the EG.3.2-24 analogue).",
        "firm",
        "Wilson (share)",
        {"share": "share", "count": "firms"},
        "practice code",
    ),
    Indicator(
        "UPG-05",
        "Upgrading intensity",
        "Mean number of practices applied per firm; the mean among firms that applied at least one; and the "
        "adoption index (practices applied / catalogue size).",
        "firm",
        "t",
        {"mean": "practices", "mean_among_appliers": "practices", "index": "share"},
    ),
    Indicator(
        "UPG-06",
        "Upgrading breadth",
        "Number of distinct types with an applied practice (0-4): its mean, the share of firms at each value and "
        "the multi-type share (2 or more types).",
        "firm",
        "t / Wilson",
        {"mean": "types", "share_at": "share", "multi_type_share": "share", "difference": "share"},
        "breadth 0-4",
    ),
    Indicator(
        "UPG-07",
        "Abandonment rate, by type and per practice",
        "Over decisions ever used (adopted, tried or abandoned): weighted share with status abandoned.",
        "decision",
        "Wilson",
        {"share": "share"},
        "upgrading type or practice code",
    ),
    Indicator(
        "UPG-08",
        "Dis-adoption between rounds",
        "Over (firm, practice) pairs applied in the previous round, the firm eligible in both rounds: share not "
        "applied in this round.",
        "decision",
        "Wilson",
        {"share": "share"},
        "upgrading type or practice code",
        panel=True,
    ),
    Indicator(
        "UPG-09",
        "Trial conversion",
        "Over (firm, practice) pairs tried in the previous round, the firm eligible in this round: share adopted "
        "in this round.",
        "decision",
        "Wilson",
        {"share": "share"},
        "upgrading type or practice code",
        panel=True,
    ),
    Indicator(
        "UPG-10",
        "Awareness and the aware-not-applied gap",
        "Per practice and by type: share of firms aware, and the gap = aware share - applied share.",
        "firm",
        "Wilson (aware share)",
        {"aware_share": "share", "gap": "share"},
        "upgrading type or practice code",
    ),
    Indicator(
        "UPG-11",
        "Reasons for not adopting",
        "Over decisions not adopted by aware firms, or abandoned: share whose main reason is each code, rolled up "
        "by reason category (the main-reason shares sum to 1), and the any-mention share per reason.",
        "decision",
        "Wilson",
        {"main_share": "share", "category_share": "share", "mention_share": "share"},
        "reason code or reason category",
    ),
    Indicator(
        "UPG-12",
        "Perceived benefit, cost, risk",
        "Per practice and by type, separately for firms that applied and firms that did not: mean score (1-5), "
        "top-2-box share (4 or 5), and net attractiveness = mean benefit - mean risk.",
        "decision",
        "t / Wilson",
        {"mean": "score", "top2_share": "share", "net_attractiveness": "score"},
        "<practice or type>:<benefit|cost|risk>:<applied|not_applied>",
    ),
    Indicator(
        "UPG-13",
        "Investment cost and financing",
        "Among decisions applied in the round: weighted median investment cost (baseline prices) and the share "
        "of decisions by financing source.",
        "decision",
        "- / Wilson",
        {"median": "currency", "share": "share"},
        "financing source",
    ),
    Indicator(
        "UPG-14",
        "Higher-value end markets",
        "Firm share: firms with any sale to an end market at or above the chain's high-value tier; value share: "
        "weighted value sold to such markets / weighted value of all sales.",
        "firm",
        "Wilson (firm share)",
        {"firm_share": "share", "value_share": "share", "difference": "share"},
    ),
    Indicator(
        "UPG-15",
        "Channel upgrading (panel)",
        "Over firms eligible in the previous round and this one: share whose highest end-market tier rose.",
        "panel",
        "Wilson",
        {"share": "share", "difference": "share"},
        panel=True,
    ),
    Indicator(
        "UPG-16",
        "Functional position",
        "Share of firms whose highest function (by value-added rank) is each function; the functional upgrading "
        "rate (panel: highest rank rose since the previous round); and the transition matrix previous -> this round.",
        "firm",
        "Wilson",
        {"share": "share", "upgrading_rate": "share", "transition_share": "share", "difference": "share"},
        "function code, or <from>><to> for transitions",
    ),
    Indicator(
        "UPG-17",
        "Embedded services and contracts",
        "Shares of firms that received embedded services from a buyer or input supplier; that hold a written "
        "contract; that sell to two or more buyers.",
        "firm",
        "Wilson",
        {"share": "share", "difference": "share"},
        "embedded_services, written_contract, two_or_more_buyers",
    ),
    Indicator(
        "UPG-18",
        "Unit price by end-market tier",
        "Weighted value / weighted quantity per end-market tier (baseline prices), and the premium over the lowest "
        "tier (price / lowest-tier price - 1); also the end-market distribution: each tier's share of the weighted "
        "sales value (a ChainLift addition to the contract).",
        "sale",
        "-",
        {"unit_price": "currency", "premium": "share", "value_share": "share"},
        "tier <n>",
    ),
    Indicator(
        "RET-01",
        "Applier vs non-applier gap (associational, not causal)",
        "For sales, net income and unit price: mean (baseline prices) of firms that applied at least one practice "
        "(overall and by type) minus the mean of firms that applied none.",
        "firm",
        "Welch",
        {"difference": "currency"},
        "<outcome>:<any|type>",
    ),
    Indicator(
        "RET-02",
        "Change since baseline (panel)",
        "Over firms eligible at baseline and in this round: mean and median of the change in sales, net income and "
        "unit price (baseline prices).",
        "panel",
        "t",
        {"mean": "currency", "median": "currency"},
        "outcome",
        panel=True,
    ),
    Indicator(
        "RET-03",
        "Difference-in-differences",
        "Over firms eligible at baseline and in this round: mean change of participants minus mean change of "
        "comparison firms (participant status in this round); also appliers minus non-appliers, labelled "
        "associational.",
        "panel",
        "Welch",
        {"did": "currency", "did_associational": "currency"},
        "outcome",
        panel=True,
    ),
)

BY_CODE = {indicator.code: indicator for indicator in CATALOGUE}
