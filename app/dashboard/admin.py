"""Administration: users and roles, app-user QR codes, publishing forms, the catalogue, job status."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.dashboard.access import ADMINS, guard

bp = Blueprint("admin", __name__, url_prefix="/dashboard/admin")
guard(bp, ADMINS)


@bp.route("/")
def index() -> str:
    return render_template("dashboard/placeholder.html", title="admin")
