"""What one accepted interview says about a firm in a round: the observation, sales, functions and decisions.

Every row here is derived from a raw submission (``submission_id``, the logical submission) and is rebuilt from
it by ``flask submissions reprocess``; deleting an observation deletes everything derived with it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, enum_column
from app.vocab import DecisionStatus

CASCADE = "all, delete-orphan"


class FirmObservation(Base):
    __tablename__ = "firm_observations"
    __table_args__ = (UniqueConstraint("firm_id", "round_id"),)  # one interview counts per firm and round

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), unique=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id"))
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_rounds.id"), index=True)
    interview_start: Mapped[dt.datetime | None]
    interview_end: Mapped[dt.datetime | None]
    duration_seconds: Mapped[int | None]
    respondent_role: Mapped[str | None] = mapped_column(String(16))
    owner_sex: Mapped[str | None] = mapped_column(String(16))
    owner_birth_year: Mapped[int | None]
    owner_education: Mapped[str | None] = mapped_column(String(16))
    workers_family: Mapped[int | None]
    workers_hired: Mapped[int | None]
    workers_female: Mapped[int | None]
    scale_units: Mapped[Decimal | None]
    scale_unit: Mapped[str | None] = mapped_column(String(32))
    production_qty: Mapped[Decimal | None]
    sales_value: Mapped[Decimal | None]
    input_cost: Mapped[Decimal | None]
    hired_labour_cost: Mapped[Decimal | None]
    other_costs: Mapped[Decimal | None]
    net_income: Mapped[Decimal | None]
    received_training: Mapped[bool | None]
    received_embedded_services: Mapped[bool | None]
    has_written_contract: Mapped[bool | None]
    credit_received: Mapped[bool | None]
    credit_amount: Mapped[Decimal | None]
    credit_source: Mapped[str | None] = mapped_column(String(32))
    number_of_buyers: Mapped[int | None]

    sales: Mapped[list[SaleByChannel]] = relationship(cascade=CASCADE, passive_deletes=True)
    functions: Mapped[list[FunctionPerformed]] = relationship(cascade=CASCADE, passive_deletes=True)
    decisions: Mapped[list[UpgradingDecision]] = relationship(cascade=CASCADE, passive_deletes=True)


class SaleByChannel(Base):
    __tablename__ = "sales_by_channel"

    id: Mapped[int] = mapped_column(primary_key=True)
    observation_id: Mapped[int] = mapped_column(ForeignKey("firm_observations.id", ondelete="CASCADE"), index=True)
    end_market_id: Mapped[int] = mapped_column(ForeignKey("end_markets.id"))
    buyer_type: Mapped[str | None] = mapped_column(String(16))
    qty: Mapped[Decimal | None]
    value: Mapped[Decimal | None]
    contract: Mapped[bool | None]
    embedded_services: Mapped[list[str]] = mapped_column(default=list)


class FunctionPerformed(Base):
    __tablename__ = "functions_performed"

    observation_id: Mapped[int] = mapped_column(
        ForeignKey("firm_observations.id", ondelete="CASCADE"), primary_key=True
    )
    chain_function_id: Mapped[int] = mapped_column(ForeignKey("chain_functions.id"), primary_key=True)


class UpgradingDecision(Base):
    """The core fact: one firm, one round, one practice of the chain's catalogue."""

    __tablename__ = "upgrading_decisions"
    __table_args__ = (
        UniqueConstraint("firm_id", "round_id", "practice_id"),
        CheckConstraint("perceived_benefit BETWEEN 1 AND 5", name="benefit_likert"),
        CheckConstraint("perceived_cost BETWEEN 1 AND 5", name="cost_likert"),
        CheckConstraint("perceived_risk BETWEEN 1 AND 5", name="risk_likert"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    observation_id: Mapped[int] = mapped_column(ForeignKey("firm_observations.id", ondelete="CASCADE"), index=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id"))
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_rounds.id"), index=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("upgrading_practices.id"), index=True)
    aware: Mapped[bool | None]
    status: Mapped[DecisionStatus] = mapped_column(enum_column(DecisionStatus))
    applied_in_period: Mapped[bool]  # adopted or tried: applied in the round's reference period
    first_year_applied: Mapped[int | None]
    last_year_applied: Mapped[int | None]
    scale_share: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    investment_cost: Mapped[Decimal | None]
    financing_source: Mapped[str | None] = mapped_column(String(32))
    information_source: Mapped[str | None] = mapped_column(String(32))
    perceived_benefit: Mapped[int | None] = mapped_column(SmallInteger)
    perceived_cost: Mapped[int | None] = mapped_column(SmallInteger)
    perceived_risk: Mapped[int | None] = mapped_column(SmallInteger)

    reasons: Mapped[list[DecisionReason]] = relationship(cascade=CASCADE, passive_deletes=True)


class DecisionReason(Base):
    __tablename__ = "decision_reasons"

    decision_id: Mapped[int] = mapped_column(ForeignKey("upgrading_decisions.id", ondelete="CASCADE"), primary_key=True)
    reason_code_id: Mapped[int] = mapped_column(ForeignKey("reason_codes.id"), primary_key=True)
    is_main: Mapped[bool] = mapped_column(default=False)
