"""KoBo REST-service hooks: created by an admin, authenticated on every delivery, their outcomes counted.

Every hook has a random URL token (``/kobo/hook/<token>``); ``basic`` and ``header`` hooks also need a generated
password or header value. Only SHA-256 hashes of these secrets are stored (they are random and long, so a slow
password hash adds nothing), and they are compared in constant time. The secrets are shown once, at creation.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import ConflictError, InvalidError, NotFoundError
from app.models import KoboAuthMode, KoboHook
from app.services.forms import get_form
from app.services.kobo import Outcome

DEFAULT_USERNAME = "kobo"
DEFAULT_HEADER = "X-ChainLift-Secret"
HOOK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
HEADER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")
# Headers a proxy or KoBo itself sets: a secret there would be overwritten or leak into logs.
RESERVED_HEADERS = {"authorization", "content-type", "content-length", "user-agent", "host", "cookie"}
COUNTERS = {
    Outcome.CREATED: KoboHook.created_count,
    Outcome.EDITED: KoboHook.edited_count,
    Outcome.RESTORED: KoboHook.edited_count,
    Outcome.DUPLICATE: KoboHook.duplicate_count,
    Outcome.STALE: KoboHook.duplicate_count,
    Outcome.ATTACHED: KoboHook.duplicate_count,  # only the sync brings files; counted as a duplicate if ever
}


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class HookSecrets:
    """What to paste into KoBo's REST service settings; shown once."""

    hook: KoboHook
    token: str
    password: str | None
    header_value: str | None


class HookAuthError(Exception):
    """A delivery's credentials are missing or wrong (``status`` 401 asks for Basic, 403 otherwise)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _issue(hook: KoboHook) -> HookSecrets:
    token = secrets.token_urlsafe(32)
    hook.token_hash, hook.token_prefix = digest(token), token[:6]
    password = header_value = None
    if hook.auth_mode is KoboAuthMode.BASIC:
        password = secrets.token_urlsafe(24)
        hook.secret_hash = digest(password)
    elif hook.auth_mode is KoboAuthMode.HEADER:
        header_value = secrets.token_urlsafe(32)
        hook.secret_hash = digest(header_value)
    else:
        hook.secret_hash = None
    return HookSecrets(hook, token, password, header_value)


def create_hook(
    session: Session,
    name: str,
    form_id: str,
    auth_mode: KoboAuthMode = KoboAuthMode.TOKEN,
    *,
    username: str = DEFAULT_USERNAME,
    header_name: str = DEFAULT_HEADER,
) -> HookSecrets:
    if not HOOK_NAME.match(name):
        raise InvalidError("A hook name is 1-64 letters, digits or . _ - characters.")
    if session.scalar(select(KoboHook.id).where(KoboHook.name == name)) is not None:
        raise ConflictError(f"A KoBo hook named '{name}' already exists.")
    form = get_form(session, form_id)
    if auth_mode is KoboAuthMode.BASIC and (not username or ":" in username or len(username) > 128):
        raise InvalidError("The Basic user name must be 1-128 characters without ':'.")
    if auth_mode is KoboAuthMode.HEADER and (
        not HEADER_NAME.match(header_name) or header_name.lower() in RESERVED_HEADERS
    ):
        raise InvalidError(f"'{header_name}' cannot carry the secret; use a header of your own, e.g. {DEFAULT_HEADER}.")
    hook = KoboHook(
        name=name,
        form_pk=form.id,
        auth_mode=auth_mode,
        basic_username=username if auth_mode is KoboAuthMode.BASIC else None,
        header_name=header_name if auth_mode is KoboAuthMode.HEADER else None,
    )
    issued = _issue(hook)
    session.add(hook)
    session.flush()
    return issued


def get_hook(session: Session, name: str) -> KoboHook:
    hook = session.scalar(select(KoboHook).where(KoboHook.name == name))
    if hook is None:
        raise NotFoundError(f"There is no KoBo hook named '{name}'.")
    return hook


def rotate(session: Session, name: str) -> HookSecrets:
    """New URL token and secret; KoBo must be given them, the old ones stop working at once."""
    return _issue(get_hook(session, name))


def set_active(session: Session, name: str, *, active: bool) -> KoboHook:
    hook = get_hook(session, name)
    hook.active = active
    return hook


def list_hooks(session: Session) -> Sequence[KoboHook]:
    return session.scalars(select(KoboHook).order_by(KoboHook.name)).all()


def find_hook(session: Session, token: str) -> KoboHook | None:
    """The active hook whose URL token this is."""
    if not token or len(token) > 200:
        return None
    hashed = digest(token)
    hook = session.scalar(select(KoboHook).where(KoboHook.token_hash == hashed))
    if hook is None or not hook.active or not hmac.compare_digest(hook.token_hash, hashed):
        return None
    return hook


def check_credentials(hook: KoboHook, basic: tuple[str, str] | None, header_value: str | None) -> None:
    """The delivery's second secret, for ``basic`` and ``header`` hooks. Raises HookAuthError."""
    if hook.auth_mode is KoboAuthMode.BASIC:
        if basic is None:
            raise HookAuthError(401, "This hook needs HTTP Basic authentication (KoBo: Authentication > Basic).")
        username, password = basic
        name_ok = hmac.compare_digest(digest(username), digest(hook.basic_username or ""))
        password_ok = hmac.compare_digest(digest(password), hook.secret_hash or "")
        if not (name_ok and password_ok):
            raise HookAuthError(401, "The Basic user name or password is wrong.")
    elif hook.auth_mode is KoboAuthMode.HEADER:
        if header_value is None:
            raise HookAuthError(403, f"This hook needs the custom header {hook.header_name}.")
        if not hmac.compare_digest(digest(header_value), hook.secret_hash or ""):
            raise HookAuthError(403, f"The value of {hook.header_name} is wrong.")


def record_delivery(
    session: Session, hook_id: int, status: int, outcome: Outcome | None = None, error: str | None = None
) -> None:
    """Count one delivery and keep its status (atomic increments: deliveries may arrive concurrently)."""
    now = utcnow()
    values: dict[str, object] = {"last_delivery_at": now, "last_status": status}
    if outcome is not None:
        column = COUNTERS[outcome]
        values[column.key] = column + 1
    elif status < 500:
        values["rejected_count"] = KoboHook.rejected_count + 1
    else:
        values["failed_count"] = KoboHook.failed_count + 1
    if error is not None:
        values["last_error"], values["last_error_at"] = error[:2000], now
    session.execute(update(KoboHook).where(KoboHook.id == hook_id).values(**values))
