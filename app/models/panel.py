"""The firm panel: survey rounds, firms (with their personal data apart) and each firm's status per round."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, enum_column, utcnow
from app.models.catalogue import ValueChain
from app.vocab import ParticipantStatus, RoundKind, RoundStatus


class SurveyRound(Base):
    __tablename__ = "survey_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    number: Mapped[int]  # 0 = baseline
    kind: Mapped[RoundKind] = mapped_column(enum_column(RoundKind))
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[RoundStatus] = mapped_column(enum_column(RoundStatus), default=RoundStatus.OPEN)
    fieldwork_start: Mapped[dt.date | None]
    fieldwork_end: Mapped[dt.date | None]
    reference_period_start: Mapped[dt.date | None]
    reference_period_end: Mapped[dt.date | None]
    currency: Mapped[str | None] = mapped_column(String(3))  # None: each chain's own currency
    deflator_to_base: Mapped[Decimal] = mapped_column(Numeric(12, 6), default=Decimal(1))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Firm(Base):
    """An MSE followed across rounds. ``panel_code`` is printed on the respondent card and never changes."""

    __tablename__ = "firms"

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_code: Mapped[str] = mapped_column(String(40), unique=True)
    value_chain_id: Mapped[int] = mapped_column(ForeignKey("value_chains.id"), index=True)
    admin1: Mapped[str | None] = mapped_column(String(100))
    admin2: Mapped[str | None] = mapped_column(String(100))
    admin3: Mapped[str | None] = mapped_column(String(100))
    urban_rural: Mapped[str | None] = mapped_column(String(16))
    year_started: Mapped[int | None]
    legal_status: Mapped[str | None] = mapped_column(String(16))
    group_member: Mapped[bool | None]
    base_weight: Mapped[float] = mapped_column(default=1.0)
    baseline_round_id: Mapped[int | None] = mapped_column(ForeignKey("survey_rounds.id"))
    # The submission that registered the firm: an edit or a reprocess of it finds the same firm again.
    registered_by_submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id", use_alter=True, name="fk_firms_registered_by_submission_id_submissions"),
        unique=True,
    )
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    value_chain: Mapped[ValueChain] = relationship()
    contact: Mapped[FirmContact | None] = relationship(back_populates="firm", cascade="all, delete-orphan")


class FirmContact(Base):
    """Personal data, kept out of the analysis tables so those can be exported without it."""

    __tablename__ = "firm_contacts"

    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id"), primary_key=True)
    firm_name: Mapped[str | None] = mapped_column(String(200))
    owner_name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    gps_lat: Mapped[float | None]
    gps_lon: Mapped[float | None]
    gps_accuracy: Mapped[float | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    firm: Mapped[Firm] = relationship(back_populates="contact")


class FirmRound(Base):
    """A firm in a round: participant or comparison, its weight, and the interview that counts."""

    __tablename__ = "firm_rounds"
    __table_args__ = (UniqueConstraint("firm_id", "round_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id"))
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_rounds.id"), index=True)
    participant_status: Mapped[ParticipantStatus] = mapped_column(
        enum_column(ParticipantStatus), default=ParticipantStatus.UNKNOWN
    )
    round_weight: Mapped[float] = mapped_column(default=1.0)
    interviewed: Mapped[bool] = mapped_column(default=False)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), unique=True)
