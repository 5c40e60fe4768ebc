"""Exports: indicators and analysis tables as CSV and XLSX, streamed in constant memory."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.dashboard.access import STAFF, guard

bp = Blueprint("exports", __name__, url_prefix="/dashboard/exports")
guard(bp, STAFF)


@bp.route("/")
def index() -> str:
    return render_template("dashboard/placeholder.html", title="exports")
