"""Who is calling: an app-user token in the URL, HTTP Digest (Collect over http), or Basic over https only.

ODK Collect sends credentials only in answer to a 401 challenge, and uses Basic only over https, so a 401
always carries a Digest challenge (../shared/docs/openrosa.md §8). Digest nonces are stateless: a timestamp
signed with the secret key, so any worker process can verify them and nothing is kept per client.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import current_app, g, request
from flask_httpauth import HTTPDigestAuth
from werkzeug.exceptions import Forbidden, Unauthorized

from app.db import lookup, transaction
from app.services import users
from app.services.users import REALM, Actor

NONCE_LIFETIME_S = 15 * 60  # then stale=TRUE: clients re-authenticate without asking the user
P = ParamSpec("P")
R = TypeVar("R")

digest = HTTPDigestAuth(realm=REALM, use_ha1_pw=True, qop="auth", algorithm="MD5")


def _sign(value: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"digest:{value}".encode(), hashlib.sha256).hexdigest()[:32]


def _new_nonce() -> str:
    stamp = f"{int(time.time()):x}"
    return f"{stamp}{_sign(stamp)}"


def _check_nonce(nonce: str | None) -> bool:
    if not nonce or len(nonce) <= 32:
        return False
    stamp, signature = nonce[:-32], nonce[-32:]
    try:
        age = time.time() - int(stamp, 16)
    except ValueError:
        return False
    return hmac.compare_digest(signature, _sign(stamp)) and 0 <= age < NONCE_LIFETIME_S


def _opaque() -> str:
    return _sign("opaque")


def _check_opaque(opaque: str | None) -> bool:
    return opaque is not None and hmac.compare_digest(opaque, _sign("opaque"))


digest.generate_nonce(_new_nonce)
digest.verify_nonce(_check_nonce)
digest.generate_opaque(_opaque)
digest.verify_opaque(_check_opaque)


def _stale_nonce(nonce: str | None) -> bool:
    """Signed by us, only too old: the client knew the password, so it may retry silently."""
    if not nonce or len(nonce) <= 32:
        return False
    stamp, signature = nonce[:-32], nonce[-32:]
    return hmac.compare_digest(signature, _sign(stamp)) and not _check_nonce(nonce)


def _request_uri() -> str:
    query = request.query_string.decode("latin-1")
    return f"{request.path}?{query}" if query else request.path


def _challenge(*, stale: bool = False) -> str:
    challenge = digest.authenticate_header() + (",stale=TRUE" if stale else "")
    if request.is_secure:
        challenge += f', Basic realm="{REALM}"'
    return str(challenge)


def _unauthorised(description: str, *, stale: bool = False) -> Unauthorized:
    g.auth_challenge = _challenge(stale=stale)
    return Unauthorized(description)


def _from_header() -> Actor:
    auth = request.authorization
    if auth is None:
        raise _unauthorised("Please sign in: this server needs a user name and password, or an app-user link.")
    if auth.type == "basic":
        if not request.is_secure:
            raise _unauthorised("Basic authentication is only available over HTTPS; use Digest or an app-user link.")
        with transaction() as session:
            user = users.active_by_name(session, auth.username or "")
        if user is None or not users.check_password(user, auth.password or ""):
            raise _unauthorised("The user name or password is wrong.")
        return Actor.of(user)
    if auth.type == "digest":
        # The response hashes the URI the client names: it must be this request's, or a captured header could be
        # replayed against any other URL.
        if auth.uri not in {_request_uri(), request.path}:
            raise _unauthorised("The Digest response was computed for another URL.")
        if _stale_nonce(auth.nonce):
            raise _unauthorised("The sign-in has expired; sign in again.", stale=True)
        with transaction() as session:
            user = users.active_by_name(session, auth.username or "")
        if user is None or not digest.authenticate(auth, user.digest_ha1):
            raise _unauthorised("The user name or password is wrong.")
        return Actor.of(user)
    raise _unauthorised(f"Authentication scheme '{auth.type}' is not supported here; use Digest.")


def current_user() -> Actor:
    """The authenticated caller of this request (after ``login_required``)."""
    actor: Actor = g.openrosa_user
    return actor


def login_required(view: Callable[P, R]) -> Callable[P, R]:
    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        token = g.get("openrosa_token")
        if token is not None:
            with lookup() as connection:
                user = users.by_token(connection, token)
            if user is None:
                # 403, not 401: a 401 would make Collect ask for a password it does not have (as Central does).
                raise Forbidden("This app-user link is not valid any more. Ask your supervisor for a new QR code.")
        else:
            user = _from_header()
        g.openrosa_user = user
        return view(*args, **kwargs)

    return wrapper
