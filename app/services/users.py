"""Users, their passwords and their app-user tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import ConflictError, InvalidError, NotFoundError
from app.models import ApiToken, Role, User

# The HTTP Digest realm is part of every stored HA1: changing it invalidates all Digest passwords.
REALM = "ChainLift"
MIN_PASSWORD_LENGTH = 10
USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@")

_hasher = PasswordHasher()


@dataclass(frozen=True)
class Actor:
    """Who is making a request: enough to authorise it, without an ORM object."""

    id: int
    username: str
    role: Role

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user.id, user.username, user.role)


def digest_ha1(username: str, password: str) -> str:
    return hashlib.md5(f"{username}:{REALM}:{password}".encode(), usedforsecurity=False).hexdigest()


def new_token() -> str:
    """64 characters from 48 random bytes, like ODK Central's app-user keys."""
    return secrets.token_urlsafe(48)


def new_password() -> str:
    return secrets.token_urlsafe(12)


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFoundError(f"There is no user named '{username}'.")
    return user


def create_user(session: Session, username: str, role: Role, password: str) -> User:
    if not username or len(username) > 64 or not set(username) <= USERNAME_CHARS:
        raise InvalidError("A user name is 1-64 letters, digits or . _ - @ characters.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise ConflictError(f"A user named '{username}' already exists.")
    user = User(username=username, role=role, token=new_token() if role is Role.ENUMERATOR else None)
    set_password(user, password)
    session.add(user)
    session.flush()
    return user


def set_password(user: User, password: str) -> None:
    user.password_hash = _hasher.hash(password)
    user.digest_ha1 = digest_ha1(user.username, password)


def list_users(session: Session) -> Sequence[User]:
    return session.scalars(select(User).order_by(User.username)).all()


def deactivate(session: Session, username: str) -> User:
    user = get_user(session, username)
    user.active = False
    user.deactivated_at = utcnow()
    user.token = None  # phones configured with the old token are refused from now on
    session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=utcnow())
    )
    return user


def ensure_token(user: User) -> str:
    if not user.active:
        raise InvalidError(f"User '{user.username}' is deactivated.")
    if user.token is None:
        user.token = new_token()
    return user.token


def ensure_admin(session: Session, username: str = "admin") -> tuple[User, str | None]:
    """The first admin. Returns the password only when the account was created now."""
    existing = session.scalar(select(User).where(User.role == Role.ADMIN, User.active.is_(True)).limit(1))
    if existing is not None:
        return existing, None
    password = new_password()
    return create_user(session, username, Role.ADMIN, password), password


# -- authentication lookups used by the HTTP layer ------------------------------------------------------------


# Built once: every OpenRosa request from an app user runs it.
BY_TOKEN = select(User.id, User.username, User.role, User.token).where(
    User.token == bindparam("token"), User.active.is_(True)
)


def by_token(session: Session, token: str) -> Actor | None:
    row = session.connection().execute(BY_TOKEN, {"token": token}).first()
    if row is None or row.token is None or not hmac.compare_digest(row.token, token):
        return None
    return Actor(row.id, row.username, row.role)


def active_by_name(session: Session, username: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username))
    return user if user is not None and user.active else None


def check_password(user: User, password: str) -> bool:
    if not user.active or user.password_hash is None:
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
