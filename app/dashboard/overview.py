"""The overview: every chain with its headline indicators, the latest round against baseline."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.dashboard.access import STAFF, guard

bp = Blueprint("overview", __name__, url_prefix="/dashboard")
guard(bp, STAFF)


@bp.route("/")
def index() -> str:
    return render_template("dashboard/overview.html", chains=[])
