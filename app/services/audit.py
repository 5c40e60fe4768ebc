"""Recording and reading the audit log, and login throttling from it.

Failed logins are counted per user name and per address over a window: past the limit, further attempts are
refused before the password is checked (HTTP 429 with Retry-After), whichever gunicorn worker answers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import AuditEvent

LOGIN_FAILED = "login_failed"
WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_NAME = 5
MAX_FAILURES_PER_ADDRESS = 30
SECRET_KEYS = frozenset({"password", "token", "secret", "api_key", "authorization"})


@dataclass(frozen=True)
class Actor:
    id: int | None
    name: str | None


def record(
    session: Session,
    action: str,
    actor: Actor | None,
    *,
    target: str | None = None,
    ip: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Add an event to the session (the caller's transaction commits it with the change it records)."""
    clean = {k: v for k, v in (detail or {}).items() if k.lower() not in SECRET_KEYS}
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor else None,
        actor_name=(actor.name or "")[:64] if actor else None,
        target=target[:255] if target else None,
        ip=ip[:64] if ip else None,
        detail=clean,
    )
    session.add(event)
    return event


def login_blocked_for(session: Session, username: str, ip: str | None, now: dt.datetime | None = None) -> int:
    """Seconds to wait before this name or address may try again; 0 when not throttled."""
    now = now or utcnow()
    since = now - WINDOW
    base = select(func.count(), func.min(AuditEvent.at)).where(
        AuditEvent.action == LOGIN_FAILED, AuditEvent.at >= since
    )
    by_name = session.execute(base.where(AuditEvent.actor_name == username[:64])).one()
    by_ip = session.execute(base.where(AuditEvent.ip == ip)).one() if ip else (0, None)
    waits = [
        oldest + WINDOW - now
        for count, oldest, limit in ((*by_name, MAX_FAILURES_PER_NAME), (*by_ip, MAX_FAILURES_PER_ADDRESS))
        if count >= limit and oldest is not None
    ]
    return max((int(w.total_seconds()) + 1 for w in waits), default=0)


def recent(
    session: Session,
    *,
    action: str | None = None,
    actor: str | None = None,
    limit: int = 200,
    before: int | None = None,
) -> Sequence[AuditEvent]:
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if actor:
        stmt = stmt.where(or_(AuditEvent.actor_name == actor, AuditEvent.target == actor))
    if before:
        stmt = stmt.where(AuditEvent.id < before)
    return session.scalars(stmt).all()


def actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
