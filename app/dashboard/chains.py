"""Chain pages: adoption over the rounds, practices, reasons, markets and returns, by disaggregation."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.dashboard.access import STAFF, guard

bp = Blueprint("chains", __name__, url_prefix="/dashboard/chains")
guard(bp, STAFF)


@bp.route("/")
def index() -> str:
    return render_template("dashboard/placeholder.html", title="chains")
