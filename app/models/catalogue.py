"""Reference data for value chains: functions, end markets, the upgrading-practice catalogue and reason codes.

Loaded from ``forms/catalogue.yaml`` by ``flask --app wsgi catalogue load`` (../shared/docs/domain.md §3.1).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, enum_column, utcnow
from app.vocab import ReasonCategory, Sector, UpgradingType


class ValueChain(Base):
    __tablename__ = "value_chains"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_fr: Mapped[str] = mapped_column(String(200))
    country_iso3: Mapped[str] = mapped_column(String(3))
    product: Mapped[str] = mapped_column(String(200))
    sector: Mapped[Sector] = mapped_column(enum_column(Sector))
    currency: Mapped[str] = mapped_column(String(3))
    reference_period_months: Mapped[int] = mapped_column(default=12)
    is_illustrative: Mapped[bool]
    # End markets of this tier or higher are "higher-value" (UPG-14); None: the lowest export tier, else the top tier.
    high_value_tier: Mapped[int | None]
    description: Mapped[str] = mapped_column(Text, default="")
    sources: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    functions: Mapped[list[ChainFunction]] = relationship(
        back_populates="value_chain", order_by="ChainFunction.value_added_rank"
    )
    end_markets: Mapped[list[EndMarket]] = relationship(back_populates="value_chain", order_by="EndMarket.tier")
    practices: Mapped[list[UpgradingPractice]] = relationship(
        back_populates="value_chain", order_by="UpgradingPractice.code"
    )


class ChainFunction(Base):
    """A node of the chain (production, grading, export, …); a higher rank adds more value."""

    __tablename__ = "chain_functions"
    __table_args__ = (UniqueConstraint("value_chain_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    value_chain_id: Mapped[int] = mapped_column(ForeignKey("value_chains.id"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    name_fr: Mapped[str] = mapped_column(String(200))
    value_added_rank: Mapped[int]
    description: Mapped[str] = mapped_column(Text, default="")

    value_chain: Mapped[ValueChain] = relationship(back_populates="functions")


class EndMarket(Base):
    """A channel to final buyers; a higher tier is a higher-value market."""

    __tablename__ = "end_markets"
    __table_args__ = (UniqueConstraint("value_chain_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    value_chain_id: Mapped[int] = mapped_column(ForeignKey("value_chains.id"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    name_fr: Mapped[str] = mapped_column(String(200))
    tier: Mapped[int]
    is_export: Mapped[bool] = mapped_column(default=False)

    value_chain: Mapped[ValueChain] = relationship(back_populates="end_markets")


class UpgradingPractice(Base):
    """One entry of a chain's catalogue, of exactly one upgrading type.

    A functional practice names the function it moves the firm into; a channel practice names the end market
    it opens. The CHECK constraints keep that true whatever writes the rows.
    """

    __tablename__ = "upgrading_practices"
    __table_args__ = (
        UniqueConstraint("value_chain_id", "code"),
        CheckConstraint(
            "(upgrading_type = 'functional') = (target_function_id IS NOT NULL)", name="functional_has_target"
        ),
        CheckConstraint("(upgrading_type = 'channel') = (target_end_market_id IS NOT NULL)", name="channel_has_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    value_chain_id: Mapped[int] = mapped_column(ForeignKey("value_chains.id"))
    code: Mapped[str] = mapped_column(String(48))
    name: Mapped[str] = mapped_column(String(200))
    name_fr: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    upgrading_type: Mapped[UpgradingType] = mapped_column(enum_column(UpgradingType))
    target_function_id: Mapped[int | None] = mapped_column(ForeignKey("chain_functions.id"))
    target_end_market_id: Mapped[int | None] = mapped_column(ForeignKey("end_markets.id"))
    promoted_by_program: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    source: Mapped[str] = mapped_column(String(500), default="")  # evidence behind the entry, or "illustrative"

    value_chain: Mapped[ValueChain] = relationship(back_populates="practices")
    target_function: Mapped[ChainFunction | None] = relationship()
    target_end_market: Mapped[EndMarket | None] = relationship()


class ReasonCode(Base):
    """Why an owner did not adopt, or abandoned, a practice (shared by every chain)."""

    __tablename__ = "reason_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(48), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    label_fr: Mapped[str] = mapped_column(String(200))
    category: Mapped[ReasonCategory] = mapped_column(enum_column(ReasonCategory))
