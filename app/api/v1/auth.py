"""Bearer tokens: ``POST /auth/token`` trades a user name and password for one, ``DELETE`` revokes it.

Every other endpoint of the API needs ``Authorization: Bearer <token>`` (``authenticate``); the panel and the
submissions are for admins and managers only (``require_staff``): enumerators work through ODK Collect.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from flask import g, request
from flask.views import MethodView
from flask_smorest import Blueprint

from app.api.v1.problems import fail, unauthorised
from app.db import transaction
from app.models import Role, User
from app.schemas.api import TokenIn, TokenOut
from app.services import audit, tokens

TAG = "auth"
STAFF = frozenset({Role.ADMIN, Role.MANAGER})
P = ParamSpec("P")
R = TypeVar("R")

blp = Blueprint("auth", __name__, url_prefix="/auth", description="Bearer tokens for this API.")


def authenticate() -> User:
    """The user behind this request's bearer token; 401 (with a Bearer challenge) without a live one."""
    header = request.headers.get("Authorization", "").strip()
    if not header:
        unauthorised("This API needs 'Authorization: Bearer <token>'; get a token from POST /api/v1/auth/token.")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        unauthorised("Send the token as 'Authorization: Bearer <token>'.", invalid_token=True)
    with transaction() as session:
        record = tokens.authenticate(session, token)
        found = (record.user, record.id, tokens.needs_touch(record)) if record is not None else None
    if found is None:
        unauthorised(
            "The token is not valid: it is unknown, expired or revoked, or its user is deactivated.", invalid_token=True
        )
    user, token_id, stale = found
    if stale:
        with transaction(write=True) as session:
            tokens.touch(session, token_id)
    g.api_user, g.api_token_id = user, token_id
    return user


def require_staff() -> None:
    """``before_request`` of the data blueprints: a valid token of an admin or a manager."""
    user = authenticate()
    if user.role not in STAFF:
        fail(403, "This API is for admins and programme managers; enumerators send data through ODK Collect.")


def staff_only(view: Callable[P, R]) -> Callable[P, R]:
    """Documents, on a view of a ``require_staff`` blueprint, its refusals: 401 without a live token, 403."""
    documented: Callable[P, R] = blp.alt_response(401, response="UNAUTHORIZED")(
        blp.alt_response(403, response="FORBIDDEN")(view)
    )
    return documented


def current_user() -> User:
    user: User = g.api_user
    return user


@blp.route("/token", tags=[TAG])
class Token(MethodView):
    @blp.doc(security=[])
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    @blp.arguments(TokenIn)
    @blp.response(201, TokenOut)
    def post(self, credentials: dict[str, Any]) -> dict[str, Any]:
        """Get a token (24 hours) for a user name and password"""
        name, ip = credentials["username"], request.remote_addr
        with transaction(write=True) as session:
            wait = audit.login_blocked_for(session, name, ip)
            user = None if wait else tokens.check_login(session, name, credentials["password"])
            if not wait:
                action = "api_token" if user is not None else audit.LOGIN_FAILED
                audit.record(
                    session, action, audit.Actor(user.id if user else None, name), ip=ip, detail={"via": "api"}
                )
        if wait:
            fail(
                429,
                f"Too many failed sign-ins for this user or address: retry in {wait} s.",
                headers={"Retry-After": str(wait)},
            )
        if user is None:
            unauthorised("The user name or password is wrong, or the account is deactivated.")
        with transaction(write=True) as session:
            issued = tokens.issue(session, user)
            return {"token": issued.token, "expires_at": issued.record.expires_at, "role": user.role}

    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.response(204)
    def delete(self) -> None:
        """Revoke the token this request is sent with"""
        authenticate()
        with transaction(write=True) as session:
            tokens.revoke(session, g.api_token_id)
