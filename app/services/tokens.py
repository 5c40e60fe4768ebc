"""Bearer tokens for the JSON API: issued for a user name and password, kept only as a SHA-256 hash, 24 h long.

The token itself is shown once, when it is issued; the database holds its hash, so a copy of the database does
not hand out working tokens. A token stops working when it expires, when it is revoked, or when its user is
deactivated.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import ApiToken, User
from app.services import users

TOKEN_LIFETIME = dt.timedelta(hours=24)
# last_used_at is written at most this often per token, so that reading the API does not write on every request.
TOUCH_INTERVAL = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class Issued:
    token: str  # the only time the clear token exists on the server
    record: ApiToken


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def as_utc(moment: dt.datetime) -> dt.datetime:
    """SQLite hands timestamps back without their zone; every timestamp we store is UTC."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


@cache
def _dummy_hash() -> str:
    return PasswordHasher().hash(secrets.token_urlsafe(16))


def check_login(session: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, else None; an unknown name costs as much as a wrong password."""
    user = users.active_by_name(session, username)
    if user is None:
        with contextlib.suppress(VerificationError):
            PasswordHasher().verify(_dummy_hash(), password)
        return None
    return user if users.check_password(user, password) else None


def issue(session: Session, user: User, now: dt.datetime | None = None) -> Issued:
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    record = ApiToken(user_id=user.id, token_hash=hash_token(token), created_at=now, expires_at=now + TOKEN_LIFETIME)
    record.user = user
    session.add(record)
    session.flush()
    return Issued(token, record)


def authenticate(session: Session, token: str, now: dt.datetime | None = None) -> ApiToken | None:
    """The live token record for ``token`` (its user loaded and active), else None."""
    now = now or utcnow()
    record = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if record is None or record.revoked_at is not None or as_utc(record.expires_at) <= now:
        return None
    if not record.user.active:
        return None
    return record


def needs_touch(record: ApiToken, now: dt.datetime | None = None) -> bool:
    now = now or utcnow()
    return record.last_used_at is None or now - as_utc(record.last_used_at) >= TOUCH_INTERVAL


def touch(session: Session, token_id: int, now: dt.datetime | None = None) -> None:
    record = session.get(ApiToken, token_id)
    if record is not None:
        record.last_used_at = now or utcnow()


def revoke(session: Session, token_id: int, now: dt.datetime | None = None) -> None:
    record = session.get(ApiToken, token_id)
    if record is not None and record.revoked_at is None:
        record.revoked_at = now or utcnow()
