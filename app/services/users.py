"""Users, their passwords and their app-user tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, bindparam, func, select, update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import ConflictError, InvalidError, NotFoundError
from app.models import ApiToken, Role, Submission, User
from app.prepared import Prepared

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
    check_password_strength(password)
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


@dataclass(frozen=True)
class UserRow:
    """A user with when it was last seen: its latest JSON API use and its latest submission."""

    user: User
    last_api_use: dt.datetime | None
    last_submission: dt.datetime | None


def user_rows(session: Session) -> list[UserRow]:
    api_use = select(func.max(ApiToken.last_used_at)).where(ApiToken.user_id == User.id).scalar_subquery()
    submitted = select(func.max(Submission.created_at)).where(Submission.submitter_id == User.id).scalar_subquery()
    rows = session.execute(select(User, api_use, submitted).order_by(User.username)).all()
    return [UserRow(user, api, sub) for user, api, sub in rows]


def _keep_an_admin(session: Session, user: User, change: str) -> None:
    """Refuse a change that would leave no active admin to manage users."""
    if user.role is not Role.ADMIN or not user.active:
        return
    others = select(func.count()).where(User.role == Role.ADMIN, User.active.is_(True), User.id != user.id)
    if not session.scalar(others):
        raise ConflictError(
            f"'{user.username}' is the last active admin: {change} would leave nobody to manage users. "
            "Make another user an admin first."
        )


def set_role(session: Session, username: str, role: Role) -> User:
    """Change a user's role. Only enumerators keep an app-user token: phones of a former enumerator stop working."""
    user = get_user(session, username)
    if role is not Role.ADMIN:
        _keep_an_admin(session, user, f"making them a {role.value}")
    user.role = role
    if role is Role.ENUMERATOR and user.active:
        ensure_token(user)
    elif role is not Role.ENUMERATOR:
        user.token = None
    return user


def reset_password(session: Session, username: str, password: str | None = None) -> tuple[User, str]:
    """Set ``password`` (checked) or a generated one; returns it, to be shown once. Every session of the user ends."""
    password = new_password() if password is None else password
    check_password_strength(password)
    user = get_user(session, username)
    set_password(user, password)
    return user, password


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")


def reactivate(session: Session, username: str) -> tuple[User, str]:
    """Let a deactivated user in again, with a new password (returned, to be shown once) and a new app-user token.

    The new password also keeps every session opened before the deactivation closed.
    """
    user = get_user(session, username)
    if user.active:
        raise ConflictError(f"User '{username}' is already active.")
    user.active = True
    user.deactivated_at = None
    if user.role is Role.ENUMERATOR:
        user.token = new_token()
    password = new_password()
    set_password(user, password)
    return user, password


def deactivate(session: Session, username: str) -> User:
    user = get_user(session, username)
    _keep_an_admin(session, user, "deactivating them")
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
BY_TOKEN = Prepared(
    select(User.id, User.username, User.role, User.token).where(User.token == bindparam("token"), User.active.is_(True))
)


def by_token(connection: Connection, token: str) -> Actor | None:
    row = BY_TOKEN.first(connection, {"token": token})
    if row is None:
        return None
    user_id, username, role, stored = row
    if stored is None or not hmac.compare_digest(stored, token):
        return None
    return Actor(user_id, username, role)


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
