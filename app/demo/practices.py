"""The upgrading module of a synthetic panel: awareness, adoption, trial and abandonment of each practice.

Each firm x practice has one latent draw ``u`` (correlated across a firm's practices through the firm's own
propensity); the firm has ever applied the practice by round k if ``u < q_k`` and is aware of it if
``u < aware_k``, with both thresholds rising over the rounds, so a panel firm never "forgets" a practice. An
ever-user has abandoned it by round k if its own draw ``v < a_k``. The thresholds are set so that, at endline,
participants apply process/product practices 15-35 % of the time (comparison 5-12 %), functional/channel
practices 6-13 % (comparison 3-6 %), 12-22 % of ever-users have abandoned, and participants know 60-85 % of
the practices (../shared/docs/domain.md §5.2).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from statistics import NormalDist

from app.demo.model import ChainSpec, Decision, PracticeSpec, ReasonSpec

FIRM_CORRELATION = 0.5
_NORMAL = NormalDist()

# Main reasons by situation, weighted; codes missing from the loaded catalogue are skipped.
NOT_ADOPTED_REASONS = {
    "process": {
        "too_expensive": 4,
        "no_credit": 3,
        "inputs_unavailable": 2,
        "lacks_skills": 2,
        "no_information_how": 2,
    },
    "product": {"no_buyer_for_upgraded": 3, "premium_too_low": 3, "returns_uncertain": 3, "too_expensive": 2},
    "functional": {"lacks_skills": 3, "no_credit": 3, "lacks_labour_time": 2, "too_risky": 2, "land_or_tenure": 1},
    "channel": {"buyer_not_requiring": 3, "too_risky": 3, "no_buyer_for_upgraded": 2, "payback_too_long": 2},
}
ABANDONED_REASONS = {"tried_did_not_work": 4, "premium_too_low": 3, "too_expensive": 2, "group_failed": 2, "other": 1}
INFORMATION = {
    "participant": {"project_extension": 5, "buyer_lead_firm": 2, "other_farmer_group": 2, "ngo": 1, "media": 1},
    "comparison": {"other_farmer_group": 4, "buyer_lead_firm": 3, "input_supplier": 2, "media": 2, "other": 1},
}
FINANCING = {"own_savings": 6, "buyer_credit": 2, "input_supplier_credit": 2, "mfi_or_bank": 1, "group": 1}


@dataclass(frozen=True)
class Rates:
    """Endline targets and baseline levels of one practice for one group."""

    applied_base: float
    applied_end: float
    abandoned_base: float
    abandoned_end: float
    aware_base: float
    aware_end: float

    def at(self, t: float) -> tuple[float, float, float]:
        """Thresholds at progress t (0 = baseline, 1 = endline): ever-used, abandoned share, aware."""
        applied = self.applied_base + (self.applied_end - self.applied_base) * t
        abandoned = self.abandoned_base + (self.abandoned_end - self.abandoned_base) * t
        ever = applied / (1 - abandoned)
        aware = self.aware_base + (self.aware_end - self.aware_base) * t
        return ever, abandoned, min(0.97, max(aware, ever + 0.05))


def practice_rates(rng: random.Random, practice: PracticeSpec) -> dict[bool, Rates]:
    """Rates for participants (True) and comparison firms (False)."""
    if practice.type in {"process", "product"}:
        end_p, end_c = rng.uniform(0.15, 0.35), rng.uniform(0.05, 0.12)
    else:
        end_p, end_c = rng.uniform(0.06, 0.13), rng.uniform(0.03, 0.06)
    base = end_c * rng.uniform(0.6, 0.9)  # before the programme, both groups look alike
    abandoned_end = rng.uniform(0.12, 0.22)
    aware_base = rng.uniform(0.30, 0.50)
    return {
        group: Rates(base, end, abandoned_end * 0.7, abandoned_end, aware_base, aware_end)
        for group, end, aware_end in (
            (True, end_p, rng.uniform(0.60, 0.85)),
            (False, end_c, aware_base + rng.uniform(0.03, 0.10)),
        )
    }


@dataclass
class Latent:
    """One firm's standing with one practice, drawn once and read in every round."""

    u: float
    v: float
    w: float
    start_round: int | None = None
    first_year: int | None = None
    abandoned_round: int | None = None
    last_year: int | None = None
    scale_share: int = 0
    investment: int = 0


def latent_draws(rng: random.Random, count: int) -> list[Latent]:
    propensity = rng.gauss(0, 1)
    rest = (1 - FIRM_CORRELATION**2) ** 0.5
    return [
        Latent(_NORMAL.cdf(FIRM_CORRELATION * propensity + rest * rng.gauss(0, 1)), rng.random(), rng.random())
        for _ in range(count)
    ]


def _pick(
    rng: random.Random, weights: dict[str, int], known: set[str], exclude: frozenset[str] | set[str] = frozenset()
) -> str:
    options = [(code, w) for code, w in weights.items() if code in known and code not in exclude]
    if not options:
        options = [(code, 1) for code in sorted(known - exclude - {"not_aware"})]
    codes, w = zip(*options, strict=True)
    choice: str = rng.choices(codes, w)[0]
    return choice


@dataclass(frozen=True)
class Moment:
    """Where an interview sits: its round index, progress 0-1, reference year and the previous one."""

    index: int
    progress: float
    year: int
    previous_year: int
    deflator: float


def decide(
    rng: random.Random,
    practice: PracticeSpec,
    rates: Rates,
    latent: Latent,
    when: Moment,
    *,
    participant: bool,
    year_started: int,
    reasons: list[ReasonSpec],
    investment_scale: float,
) -> Decision:
    ever_p, abandon_p, aware_p = rates.at(when.progress)
    decision = Decision(practice.code, practice.name or practice.code, practice.name_fr or practice.code, aware=False)
    known = {r.code for r in reasons}
    if latent.u >= aware_p:
        decision.main_reason = "not_aware" if "not_aware" in known else _pick(rng, {}, known)
        return decision
    decision.aware = True
    group = "participant" if participant else "comparison"
    decision.information_source = _pick(rng, INFORMATION[group], set(INFORMATION[group]))
    ever = latent.u < ever_p
    if ever and latent.start_round is None:
        _start(rng, latent, when, year_started=year_started, scale=investment_scale, practice=practice)
    abandoned = ever and latent.v < abandon_p
    if abandoned and latent.abandoned_round is None:
        latent.abandoned_round = when.index
        first = latent.first_year or when.year
        latent.last_year = rng.randint(first, max(first, when.year - 1))
    if not ever:
        decision.status = "not_adopted"
        decision.main_reason = _pick(rng, NOT_ADOPTED_REASONS[practice.type], known)
    elif abandoned:
        decision.status = "abandoned"
        decision.main_reason = _pick(rng, ABANDONED_REASONS, known)
    else:
        new = latent.start_round == when.index
        decision.status = "tried" if latent.w < (0.4 if new and when.index > 0 else 0.12) else "adopted"
    if ever:
        decision.first_year, decision.scale_share = latent.first_year, latent.scale_share
        decision.investment_cost = latent.investment
        if latent.investment > 0:
            decision.financing_source = "project_subsidy" if participant and latent.w > 0.8 else None
            decision.financing_source = decision.financing_source or _pick(rng, FINANCING, set(FINANCING))
    if abandoned:
        decision.last_year = latent.last_year
    if decision.main_reason is not None and rng.random() < 0.55:
        extra = {decision.main_reason, "not_aware"}
        decision.other_reasons = (_pick(rng, NOT_ADOPTED_REASONS[practice.type], known, extra),)
    _perceptions(rng, decision, participant=participant, practice=practice)
    return decision


def _start(
    rng: random.Random, latent: Latent, when: Moment, *, year_started: int, scale: float, practice: PracticeSpec
) -> None:
    latent.start_round = when.index
    if when.index == 0:
        latent.first_year = rng.randint(min(when.year, max(year_started, when.year - 8)), when.year)
    else:
        latent.first_year = rng.randint(min(when.previous_year + 1, when.year), when.year)
    latent.scale_share = rng.choice(range(10, 101, 5))
    factor = 2.0 if practice.type == "functional" else 1.0
    if rng.random() < 0.7:  # some practices cost nothing but time
        latent.investment = max(1, round(scale * factor * rng.lognormvariate(0, 0.8) / when.deflator))


def _perceptions(rng: random.Random, decision: Decision, *, participant: bool, practice: PracticeSpec) -> None:
    using = decision.status in {"adopted", "tried"}
    benefit = 3.9 if using else 2.2 if decision.status == "abandoned" else 3.0
    cost = 3.2 if practice.type in {"process", "functional"} else 2.7
    risk = 2.4 if using else 3.3
    shift = 0.3 if participant else 0.0

    def score(mean: float) -> int:
        return min(5, max(1, round(rng.gauss(mean, 0.9))))

    decision.benefit, decision.cost, decision.risk = score(benefit + shift), score(cost), score(risk - shift)


def chain_rates(rng: random.Random, chain: ChainSpec) -> dict[str, dict[bool, Rates]]:
    return {p.code: practice_rates(rng, p) for p in chain.ordered_practices()}
