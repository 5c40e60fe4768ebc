"""Who may see a page: the signed-in viewer, role guards for blueprints, and CSRF on every state change.

Sessions are Flask's signed cookies, managed by Flask-Login. The session holds ``<user id>:<stamp>``, where
the stamp is derived from the password hash, so changing a password or deactivating the user ends every session.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask import Blueprint, Flask, abort, redirect, request, url_for
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFProtect
from werkzeug.wrappers import Response

from app.db import transaction
from app.models import Role, User

STAFF = frozenset({Role.ADMIN, Role.MANAGER})
ADMINS = frozenset({Role.ADMIN})
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})

login_manager = LoginManager()
csrf = CSRFProtect()


@dataclass(frozen=True)
class Viewer(UserMixin):  # type: ignore[misc]
    """The signed-in person, detached from any database session."""

    id: int
    username: str
    role: Role
    stamp: str

    def get_id(self) -> str:
        return f"{self.id}:{self.stamp}"

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF


def session_stamp(user: User) -> str:
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def viewer_of(user: User) -> Viewer:
    return Viewer(user.id, user.username, user.role, session_stamp(user))


def _load(session_id: str) -> Viewer | None:
    pk, _, stamp = session_id.partition(":")
    if not pk.isdigit():
        return None
    with transaction() as session:
        user = session.get(User, int(pk))
        if user is None or not user.active or session_stamp(user) != stamp:
            return None
        return viewer_of(user)


def viewer() -> Viewer:
    """The signed-in viewer; only call it behind a guard."""
    found: Viewer = current_user._get_current_object()
    return found


def guard(blueprint: Blueprint, roles: frozenset[Role]) -> None:
    """Every page of ``blueprint`` needs a session of one of ``roles`` and, for a state change, a CSRF token."""

    @blueprint.before_request
    def _check() -> Response | None:
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if viewer().role not in roles:
            abort(403, description=_refusal(roles))
        if request.method in UNSAFE:
            csrf.protect()
        return None


def _refusal(roles: frozenset[Role]) -> str:
    if roles == ADMINS:
        return "Only administrators may open this page."
    return "The dashboard is for programme managers and administrators; enumerators send data through ODK Collect."


def init_app(app: Flask) -> None:
    # CSRF is checked by the guards (and the login form), not app-wide: OpenRosa and API clients post without it.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 8 * 3600)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.user_loader(_load)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
