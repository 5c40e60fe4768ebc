"""The admin blueprint, its index page, and the redirect-with-a-message that ends every change."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from app.dashboard.access import ADMINS, guard, viewer
from app.errors import DomainError
from app.services import audit

bp = Blueprint("admin", __name__, url_prefix="/dashboard/admin")
guard(bp, ADMINS)


@bp.route("/")
def index() -> str:
    return render_template("dashboard/admin/index.html")


def done(endpoint: str, *messages: str, category: str = "message", **values: Any) -> Response:
    """After a change: back to a page (GET), with what happened."""
    for message in messages:
        flash(message, category)
    return redirect(url_for(endpoint, **values))


def refused(endpoint: str, exc: DomainError, **values: Any) -> Response:
    """A change the services refused: back to the page with their reason, nothing changed."""
    return done(endpoint, exc.message, category="error", **values)


def form_text(name: str) -> str:
    """A text field of the posted form, stripped ('' when absent)."""
    return (request.form.get(name) or "").strip()


def record(session: Session, action: str, target: str, **detail: Any) -> None:
    """Put an admin's change in the audit log, in the transaction that makes it (never a secret: see audit.record)."""
    who = viewer()
    audit.record(
        session, action, audit.Actor(who.id, who.username), target=target, ip=request.remote_addr, detail=detail
    )
