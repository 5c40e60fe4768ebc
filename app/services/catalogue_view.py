"""The catalogue as the admin pages show it: each chain with its functions, end markets and practices."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.models import ReasonCode, SurveyRound, UpgradingPractice, ValueChain
from app.vocab import UpgradingType


@dataclass(frozen=True)
class ChainView:
    chain: ValueChain
    practices_by_type: dict[UpgradingType, list[UpgradingPractice]]  # every type, in the vocabulary's order


@dataclass(frozen=True)
class CatalogueView:
    chains: list[ChainView]
    reasons: Sequence[ReasonCode]
    rounds: Sequence[SurveyRound]


def catalogue_view(session: Session) -> CatalogueView:
    chains = session.scalars(
        select(ValueChain)
        .order_by(ValueChain.code)
        .options(
            selectinload(ValueChain.functions),
            selectinload(ValueChain.end_markets),
            selectinload(ValueChain.practices).selectinload(UpgradingPractice.target_function),
            selectinload(ValueChain.practices).selectinload(UpgradingPractice.target_end_market),
        )
    ).all()
    views = []
    for chain in chains:
        by_type: dict[UpgradingType, list[UpgradingPractice]] = {t: [] for t in UpgradingType}
        for practice in chain.practices:
            by_type[practice.upgrading_type].append(practice)
        views.append(ChainView(chain, by_type))
    reasons = session.scalars(select(ReasonCode).order_by(ReasonCode.category, ReasonCode.code)).all()
    rounds = session.scalars(select(SurveyRound).order_by(SurveyRound.number)).all()
    return CatalogueView(views, reasons, rounds)


def list_chains(session: Session) -> Sequence[ValueChain]:
    return session.scalars(select(ValueChain).order_by(ValueChain.code)).all()
