"""A synthetic firm panel with a known effect of programme participation (../shared/docs/domain.md §5.2).

``generate_panel`` is pure and deterministic: the same catalogue, rounds, form and parameters give the same
panel, to the instanceID. Per chain: firms drawn around ``params.firms``; 55-65 % participants; owner gender
by sector (handicraft 70-90 % female, agriculture 20-45 %); ≥ 85 % micro firms; attrition 10-14 % of
participants and 15-20 % of comparison firms per follow-up round, at random (so it biases nothing); upgrading
as in app/demo/practices.py; money as in app/demo/economy.py.

The true effect: at endline a participant's real net income is higher by ``effect`` x the chain's baseline mean
real net income (at a midline, by the share of the way from baseline to endline), so the true
difference-in-differences of real net income, endline - baseline, participants - comparison, is that amount:
``GeneratedChain.true_did_net_income``.
"""

from __future__ import annotations

import datetime as dt
import random
import string
import uuid
from dataclasses import dataclass
from statistics import fmean

from app.demo import economy
from app.demo.model import (
    ChainSpec,
    Firm,
    FormSpec,
    GeneratedChain,
    GeneratedPanel,
    Interview,
    PanelParams,
    ReasonSpec,
    RoundSpec,
)
from app.demo.people import new_firm
from app.demo.places import COUNTRIES, GENERIC, USD_RATES, product_of
from app.demo.practices import Latent, Moment, Rates, chain_rates, decide, latent_draws

APPLIED = {"adopted", "tried"}
PER_DAY = 6  # interviews per enumerator-day
ROLES = {"owner": 86, "spouse": 8, "co_owner": 3, "manager": 2, "other": 1}


class PanelError(ValueError):
    """The parameters or the catalogue cannot give a panel."""


def choose_chains(chains: list[ChainSpec], count: int) -> list[ChainSpec]:
    """``count`` chains, taking the sectors in turn (by code within a sector), so small panels mix sectors."""
    if count < 1 or count > len(chains):
        raise PanelError(f"Asked for {count} chains; the catalogue has {len(chains)}.")
    by_sector: dict[str, list[ChainSpec]] = {}
    for chain in sorted(chains, key=lambda c: c.code):
        by_sector.setdefault(chain.sector, []).append(chain)
    queues = [by_sector[s] for s in sorted(by_sector)]
    chosen: list[ChainSpec] = []
    while len(chosen) < count:
        for queue in queues:
            if queue and len(chosen) < count:
                chosen.append(queue.pop(0))
    return chosen


def generate_panel(
    chains: list[ChainSpec], reasons: list[ReasonSpec], rounds: list[RoundSpec], form: FormSpec, params: PanelParams
) -> GeneratedPanel:
    rounds = sorted(rounds, key=lambda r: r.number)
    if len(rounds) < 2 or rounds[0].number != 0:
        raise PanelError("A panel needs the baseline (round number 0) and at least one follow-up round.")
    if params.firms < 10:
        raise PanelError("At least 10 firms per chain.")
    if not 0 <= params.spread < 1:
        raise PanelError("The spread is a share below 1, e.g. 0.15.")
    names: set[str] = set()
    built = [
        _ChainBuilder(chain, reasons, rounds, params, names).build() for chain in choose_chains(chains, params.chains)
    ]
    interviews = {r.number: [i for _, per_round in built for i in per_round.get(r.number, [])] for r in rounds}
    return GeneratedPanel(params, form, rounds, [chain for chain, _ in built], interviews)


@dataclass
class _State:
    business: economy.Business
    latents: list[Latent]


class _ChainBuilder:
    def __init__(
        self,
        spec: ChainSpec,
        reasons: list[ReasonSpec],
        rounds: list[RoundSpec],
        params: PanelParams,
        names: set[str],
    ) -> None:
        self.spec, self.reasons, self.rounds, self.params, self.names = spec, reasons, rounds, params, names
        self.rng = random.Random(f"{params.seed}:{spec.code}")  # noqa: S311 - a reproducible simulation
        self.country = COUNTRIES.get(spec.country_iso3, GENERIC)
        self.product = product_of(spec.sector, spec.product)
        self.usd_rate = USD_RATES.get(spec.currency, 1.0)
        self.practices = spec.ordered_practices()
        self.rates: dict[str, dict[bool, Rates]] = chain_rates(self.rng, spec)
        self.states: dict[str, _State] = {}
        size = round(params.firms * self.rng.uniform(1 - params.spread, 1 + params.spread))
        self.size = max(10, size)
        self.enumerators = [
            (f"{spec.code.lower()}-enum{j + 1:02d}", "collect:" + "".join(self.rng.choices(string.ascii_letters, k=16)))
            for j in range(max(2, min(30, round(self.size / 30))))
        ]

    def build(self) -> tuple[GeneratedChain, dict[int, list[Interview]]]:
        rng, size = self.rng, self.size
        participant_share = rng.uniform(0.55, 0.65)
        female_share = {"handicraft": rng.uniform(0.7, 0.9), "agriculture": rng.uniform(0.2, 0.45)}.get(
            self.spec.sector, rng.uniform(0.35, 0.55)
        )
        participants = _exactly(rng, size, participant_share)
        females = _exactly(rng, size, female_share)
        micro = _exactly(rng, size, rng.uniform(0.87, 0.94))
        baseline_year = self.rounds[0].fieldwork_start.year
        firms = []
        for n in range(size):
            firm = new_firm(
                rng,
                self.spec,
                self.country,
                self.product,
                self.names,
                number=n,
                baseline_year=baseline_year,
                participant=participants[n],
                female=females[n],
                micro=micro[n],
            )
            business = economy.new_business(
                rng, self.spec, self.product, self.usd_rate, micro=micro[n], group_member=firm.group_member
            )
            self.states[firm.key] = _State(business, latent_draws(rng, len(self.practices)))
            firms.append(firm)
        interviews: dict[int, list[Interview]] = {0: self._round(0, firms, 0.0)}
        baseline_mean = fmean(i.net_income_real for i in interviews[0])
        effect = self.params.effect * baseline_mean
        active = firms
        for k in range(1, len(self.rounds)):
            active = self._attrition(active)
            interviews[self.rounds[k].number] = self._round(k, active, effect)
        chain = GeneratedChain(self.spec, firms, sum(participants) / size, sum(females) / size, effect)
        return chain, interviews

    def _attrition(self, active: list[Firm]) -> list[Firm]:
        leaving: set[str] = set()
        for group, low, high in ((True, 0.10, 0.14), (False, 0.15, 0.20)):
            members = [f for f in active if f.participant is group]
            leaving |= {f.key for f in self.rng.sample(members, round(len(members) * self.rng.uniform(low, high)))}
        return [f for f in active if f.key not in leaving]

    def _round(self, k: int, firms: list[Firm], effect: float) -> list[Interview]:
        order = list(firms)
        self.rng.shuffle(order)
        return [self._interview(k, position, firm, effect) for position, firm in enumerate(order)]

    def _interview(self, k: int, position: int, firm: Firm, effect: float) -> Interview:
        rng, spec, state = self.rng, self.spec, self.states[firm.key]
        survey_round, progress = self.rounds[k], k / (len(self.rounds) - 1)
        years = (survey_round.reference_end - self.rounds[0].reference_end).days / 365.25
        when = Moment(
            k,
            progress,
            survey_round.reference_end.year,
            self.rounds[k - 1].reference_end.year if k else 0,
            survey_round.deflator,
        )
        scale = 0.08 * state.business.level
        decisions = [
            decide(
                rng,
                practice,
                self.rates[practice.code][firm.participant],
                latent,
                when,
                participant=firm.participant,
                year_started=firm.year_started,
                reasons=self.reasons,
                investment_scale=scale,
            )
            for practice, latent in zip(self.practices, state.latents, strict=True)
        ]
        applied = {d.practice for d in decisions if d.status in APPLIED}
        if k:
            economy.next_workers(rng, state.business)
        business = state.business
        extra = effect * progress if firm.participant else 0.0
        money = economy.money(rng, business, years=years, extra_real=extra, deflator=survey_round.deflator)
        link = (0.08 + 0.17 * progress) if firm.participant else (0.06 + 0.03 * progress)
        sales = economy.sales(
            rng,
            spec,
            business,
            self.product,
            total=money.sales,
            deflator=survey_round.deflator,
            link_chance=link,
            usd_rate=self.usd_rate,
            channel_targets=[p.target_end_market or "" for p in self.practices if p.code in applied],
        )
        functions = [*business.extra_functions, *(p.target_function or "" for p in self.practices if p.code in applied)]
        ranks = {f.code: f.rank for f in spec.functions}
        total_workers = business.workers_family + business.workers_hired
        female_workers = int(firm.owner_sex == "female") + sum(rng.random() < 0.5 for _ in range(total_workers - 1))
        credit = rng.random() < ((0.25 + 0.1 * progress) if firm.participant else 0.2)
        enumerator, device = self.enumerators[position % len(self.enumerators)]
        start = self._start_time(survey_round, position)
        firm.rounds.append(survey_round.number)
        return Interview(
            firm=firm,
            round=survey_round,
            instance_id=f"uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}",
            start=start,
            end=start + dt.timedelta(minutes=rng.uniform(35, 85), seconds=rng.uniform(0, 59)),
            enumerator=enumerator,
            device_id=device,
            respondent_role=rng.choices(list(ROLES), list(ROLES.values()))[0],
            owner_age=start.year - firm.owner_birth_year,
            functions=tuple(sorted({f for f in functions if f in ranks}, key=lambda f: ranks[f])),
            workers_family=business.workers_family,
            workers_hired=business.workers_hired,
            workers_female=min(female_workers, total_workers),
            scale_units=_scale(business.scale * (1 + 0.02 * years), self.product.scale_unit),
            scale_unit=self.product.scale_unit,
            production_qty=round(sum(s.qty for s in sales) * rng.uniform(1.0, 1.15)),
            production_unit=self.product.production_unit,
            number_of_buyers=sum(1 if s.contract else rng.randint(1, 4) for s in sales),
            sales=sales,
            received_training=rng.random()
            < ((0.12 if k == 0 else 0.55 + 0.2 * progress) if firm.participant else 0.12),
            received_embedded_services=any(s.services for s in sales) or rng.random() < 0.05,
            credit_received=credit,
            credit_amount=round(money.sales * rng.uniform(0.05, 0.3)) if credit else None,
            credit_source=rng.choice(("mfi_or_bank", "group", "buyer_credit", "own_savings")) if credit else None,
            decisions=decisions,
            sales_value=money.sales,
            input_cost=money.input_cost,
            hired_labour_cost=money.hired_labour_cost,
            other_costs=money.other_costs,
        )

    def _start_time(self, survey_round: RoundSpec, position: int) -> dt.datetime:
        per_day = PER_DAY * len(self.enumerators)
        day = survey_round.fieldwork_start + dt.timedelta(days=position // per_day)
        slot = (position // len(self.enumerators)) % PER_DAY
        hours, minutes = map(int, self.country.utc_offset[1:].split(":"))
        sign = -1 if self.country.utc_offset.startswith("-") else 1
        zone = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
        clock = dt.time(7, 30)
        moment = dt.datetime.combine(day, clock, zone) + dt.timedelta(minutes=80 * slot + self.rng.uniform(0, 20))
        return moment.replace(microsecond=(moment.microsecond // 1000) * 1000)


def _scale(value: float, unit: str) -> float:
    """Hectares to one decimal; trees, animals and looms are counted."""
    return round(value, 1) if unit == "hectares" else max(1, round(value))


def _exactly(rng: random.Random, size: int, share: float) -> list[bool]:
    """``round(size x share)`` True values in random order: the share holds exactly, not only on average."""
    count = round(size * share)
    flags = [True] * count + [False] * (size - count)
    rng.shuffle(flags)
    return flags
