"""The audit log: sign-ins, form publishes, reviews, exports and user changes, newest first, filtered, paged."""

from __future__ import annotations

from flask import abort, render_template, request

from app.dashboard.admin.blueprint import bp
from app.db import transaction
from app.services import audit

PAGE = 100


@bp.route("/audit")
def audit_page() -> str:
    action = (request.args.get("action") or "").strip() or None
    actor = (request.args.get("user") or "").strip() or None
    before_raw = request.args.get("before") or ""
    if before_raw and not before_raw.isdigit():
        abort(400, description="'before' must be an event number.")
    before = int(before_raw) if before_raw else None
    with transaction() as session:
        events = audit.recent(session, action=action, actor=actor, limit=PAGE + 1, before=before)
        actions = audit.actions(session)
    more = len(events) > PAGE
    events = events[:PAGE]
    return render_template(
        "dashboard/admin/audit.html",
        events=events,
        actions=actions,
        action=action or "",
        actor=actor or "",
        older=events[-1].id if more and events else None,
    )
