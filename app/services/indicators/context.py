"""What a (chain, round) computation needs to know besides the rows: rounds to compare with, deflators, catalogue."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ChainFunction, EndMarket, ReasonCode, SurveyRound, UpgradingPractice, ValueChain
from app.vocab import ReasonCategory, UpgradingType


@dataclass(frozen=True)
class RoundRef:
    id: int
    code: str
    number: int
    deflator: float  # to baseline prices


@dataclass(frozen=True)
class Practice:
    id: int
    code: str
    type: UpgradingType


@dataclass(frozen=True)
class Pair:
    chain_id: int
    chain_code: str
    round: RoundRef
    previous: RoundRef | None  # r - 1: the round with the next lower number
    baseline: RoundRef | None  # r0: round number 0 (None when this is it, or there is none)
    high_value_tier: int | None
    practices: tuple[Practice, ...]
    functions: dict[int, str]  # value-added rank -> function code (the highest code when ranks tie)
    reasons: dict[int, tuple[str, ReasonCategory]]

    @property
    def catalogue_size(self) -> int:
        return len(self.practices)


def _ref(row: SurveyRound) -> RoundRef:
    return RoundRef(row.id, row.code, row.number, float(row.deflator_to_base))


def high_value_tier(session: Session, chain: ValueChain) -> int | None:
    """The chain's threshold, else the lowest export tier, else the top tier (docs/catalogue.md)."""
    if chain.high_value_tier is not None:
        return chain.high_value_tier
    markets = session.execute(select(EndMarket.tier, EndMarket.is_export).where(EndMarket.value_chain_id == chain.id))
    tiers = list(markets)
    exports = [tier for tier, is_export in tiers if is_export]
    if exports:
        return min(exports)
    return max((tier for tier, _ in tiers), default=None)


def load_pair(session: Session, chain_id: int, round_id: int) -> Pair:
    chain = session.get(ValueChain, chain_id)
    this = session.get(SurveyRound, round_id)
    if chain is None or this is None:
        raise LookupError(f"no value chain {chain_id} or round {round_id}")
    rounds = list(session.scalars(select(SurveyRound).order_by(SurveyRound.number)))
    earlier = [r for r in rounds if r.number < this.number]
    baseline = next((r for r in rounds if r.number == 0 and r.id != this.id), None)
    practices = session.execute(
        select(UpgradingPractice.id, UpgradingPractice.code, UpgradingPractice.upgrading_type)
        .where(UpgradingPractice.value_chain_id == chain_id, UpgradingPractice.is_active)
        .order_by(UpgradingPractice.code)
    )
    functions = session.execute(
        select(ChainFunction.value_added_rank, ChainFunction.code)
        .where(ChainFunction.value_chain_id == chain_id)
        .order_by(ChainFunction.value_added_rank, ChainFunction.code)
    )
    reasons = session.execute(select(ReasonCode.id, ReasonCode.code, ReasonCode.category))
    return Pair(
        chain_id=chain.id,
        chain_code=chain.code,
        round=_ref(this),
        previous=_ref(earlier[-1]) if earlier else None,
        baseline=_ref(baseline) if baseline is not None and this.number > 0 else None,
        high_value_tier=high_value_tier(session, chain),
        practices=tuple(Practice(pk, code, UpgradingType(kind)) for pk, code, kind in practices),
        functions=dict(functions.all()),
        reasons={pk: (code, ReasonCategory(category)) for pk, code, category in reasons},
    )
