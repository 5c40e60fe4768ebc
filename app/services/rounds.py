"""Survey rounds: baseline, follow-ups, monitoring."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import ConflictError, InvalidError, NotFoundError
from app.models import SurveyRound
from app.vocab import RoundKind, RoundStatus


def create_round(
    session: Session,
    code: str,
    number: int,
    kind: RoundKind,
    *,
    name: str | None = None,
    reference_period: tuple[dt.date, dt.date] | None = None,
    deflator: Decimal = Decimal(1),
    currency: str | None = None,
) -> SurveyRound:
    if session.scalar(select(SurveyRound.id).where(SurveyRound.code == code)) is not None:
        raise ConflictError(f"A round with code '{code}' already exists.")
    if (kind is RoundKind.BASELINE) != (number == 0):
        raise InvalidError("The baseline is round number 0, and round 0 is the baseline.")
    if reference_period and reference_period[1] < reference_period[0]:
        raise InvalidError("The reference period ends before it starts.")
    if deflator <= 0:
        raise InvalidError("The deflator must be positive.")
    survey_round = SurveyRound(
        code=code,
        number=number,
        kind=kind,
        name=name or f"{kind.value.capitalize()} ({code})",
        reference_period_start=reference_period[0] if reference_period else None,
        reference_period_end=reference_period[1] if reference_period else None,
        deflator_to_base=deflator,
        currency=currency,
    )
    session.add(survey_round)
    session.flush()
    return survey_round


def list_rounds(session: Session) -> Sequence[SurveyRound]:
    return session.scalars(select(SurveyRound).order_by(SurveyRound.number, SurveyRound.code)).all()


def set_status(session: Session, code: str, status: RoundStatus) -> SurveyRound:
    survey_round = session.scalar(select(SurveyRound).where(SurveyRound.code == code))
    if survey_round is None:
        raise NotFoundError(f"There is no round '{code}'.")
    survey_round.status = status
    return survey_round
