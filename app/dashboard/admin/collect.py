"""App-user QR codes: an enumerator's server URL with its token, and the ODK Collect settings QR code.

The QR code is the one ``flask users collect-config NAME`` prints (app/services/collect_config.py), drawn as
inline SVG by segno. Whoever scans it may submit as that enumerator, until the token is replaced.
"""

from __future__ import annotations

from flask import current_app, render_template, request
from markupsafe import Markup
from werkzeug.wrappers import Response

from app.dashboard.admin.blueprint import bp, done, record, refused
from app.db import transaction
from app.errors import DomainError, InvalidError
from app.models import Role
from app.services import users
from app.services.collect_config import CollectConfig, collect_config, qr_code

QR_SCALE = 6  # the CLI's --qr file uses the same; the page shrinks it to fit (viewBox)


def _server() -> str:
    """The server as phones reach it: PUBLIC_BASE_URL when set, else the address this page was opened at."""
    configured: str | None = current_app.config.get("PUBLIC_BASE_URL")
    return (configured or request.host_url).rstrip("/")


def _config(username: str, *, rotate: bool) -> CollectConfig:
    with transaction(write=True) as session:  # writes only when a token is issued
        user = users.get_user(session, username)
        if user.role is not Role.ENUMERATOR:
            raise InvalidError(f"'{username}' is a {user.role.value}: QR codes are for enumerators.")
        config = collect_config(session, username, _server(), rotate=rotate)
        if rotate:
            record(session, "app_token_rotate", username)
        return config


@bp.route("/users/<username>/collect")
def collect_page(username: str) -> str | Response:
    try:
        config = _config(username, rotate=False)
    except DomainError as exc:
        return refused("admin.users_page", exc)
    svg = qr_code(config.payload).svg_inline(
        scale=QR_SCALE, omitsize=True, light="#fff", svgclass="qr", title=f"ODK Collect settings for {username}"
    )
    return render_template("dashboard/admin/collect.html", config=config, svg=Markup(svg))  # noqa: S704 - segno's SVG


@bp.post("/users/<username>/collect/token")
def new_token(username: str) -> Response:
    try:
        _config(username, rotate=True)
    except DomainError as exc:
        return refused("admin.users_page", exc)
    return done(
        "admin.collect_page",
        f"New token for '{username}': phones set up with the old QR code can no longer submit. Scan this one.",
        username=username,
    )
