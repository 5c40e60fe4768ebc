"""Fieldwork monitoring: submissions per day and enumerator, the review queue and review actions."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.dashboard.access import STAFF, guard

bp = Blueprint("fieldwork", __name__, url_prefix="/dashboard/fieldwork")
guard(bp, STAFF)


@bp.route("/")
def index() -> str:
    return render_template("dashboard/placeholder.html", title="fieldwork")
