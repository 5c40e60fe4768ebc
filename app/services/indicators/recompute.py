"""Recompute a chain's indicators on request: its rounds are marked stale, and the commit queues the refresh."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import NotFoundError
from app.models import ValueChain
from app.services.indicators.staleness import mark_chain

REASON = "manual"


def request_recompute(session: Session, chain_code: str) -> ValueChain:
    """Mark every round of the chain stale. The boundary's commit asks the job queue for a refresh, and the
    periodic sweep finds the marks if that request is lost: a recompute is never forgotten."""
    chain = session.scalar(select(ValueChain).where(ValueChain.code == chain_code))
    if chain is None:
        raise NotFoundError(f"There is no value chain '{chain_code}'.")
    mark_chain(session, chain.id, REASON)
    return chain
