"""Stale marks: the data behind a (chain, round) changed, in the same transaction as the change itself.

A mark on round r also marks the rounds whose change indicators read r: the next round (it compares with r - 1)
and, when r is the baseline, every later round (they compare with r0). The boundary that commits sees the chains in
``session.info`` and asks the job queue to refresh them; if that request is lost, the periodic sweep finds the marks.
"""

from __future__ import annotations

from sqlalchemy import and_, bindparam, func, insert, literal, or_, select
from sqlalchemy.orm import Session

from app.db import UTCDateTime, utcnow
from app.models import IndicatorMark, SurveyRound

STALE_CHAINS = "chainlift.stale_chains"


def _remember(session: Session, chain_id: int) -> None:
    session.info.setdefault(STALE_CHAINS, set()).add(chain_id)


def mark_stale(session: Session, chain_id: int, round_id: int, reason: str) -> None:
    sr = SurveyRound
    number = select(sr.number).where(sr.id == round_id).scalar_subquery()
    following = select(func.min(sr.number)).where(sr.number > number).scalar_subquery()
    rounds = select(
        literal(chain_id),
        sr.id,
        literal(reason),
        bindparam("now", utcnow(), type_=UTCDateTime()),
    ).where(or_(sr.id == round_id, sr.number == following, and_(number == 0, sr.number > 0)))
    session.execute(insert(IndicatorMark).from_select(["value_chain_id", "round_id", "reason", "marked_at"], rounds))
    _remember(session, chain_id)


def mark_chain(session: Session, chain_id: int, reason: str) -> None:
    """Every round of a chain: its catalogue changed."""
    rounds = select(literal(chain_id), SurveyRound.id, literal(reason), bindparam("now", utcnow(), type_=UTCDateTime()))
    session.execute(insert(IndicatorMark).from_select(["value_chain_id", "round_id", "reason", "marked_at"], rounds))
    _remember(session, chain_id)


def stale_chains(session: Session) -> set[int]:
    """The chains marked in this session since the last commit (read by the boundary after it commits)."""
    return set(session.info.get(STALE_CHAINS, ()))
