"""Job status: how fresh the indicators are per chain and round, the job runs with their errors, recompute now."""

from __future__ import annotations

import logging

from flask import current_app, render_template
from werkzeug.wrappers import Response

from app.dashboard.admin.blueprint import bp, done, form_text, record, refused
from app.db import transaction
from app.errors import DomainError
from app.jobs import jobs_of
from app.models import JobStatus
from app.services.catalogue_view import list_chains
from app.services.indicators import status
from app.services.indicators.recompute import request_recompute

log = logging.getLogger(__name__)
RUNS = 50


def _queue() -> tuple[int, int] | None:
    """(queued, scheduled) tasks, or None when the queue cannot be reached (e.g. Redis is down)."""
    huey = jobs_of(current_app).huey
    try:
        return huey.pending_count(), huey.scheduled_count()
    except Exception:
        log.warning("the job queue could not be read", exc_info=True)
        return None


@bp.route("/jobs")
def jobs_page() -> str:
    with transaction() as session:
        return render_template(
            "dashboard/admin/jobs.html",
            pairs=status.pair_status(session),
            runs=status.job_runs(session, limit=RUNS),
            failed=status.job_runs(session, JobStatus.FAILED, limit=RUNS),
            chains=list_chains(session),
            queue=_queue(),
        )


@bp.post("/jobs/recompute")
def recompute() -> Response:
    code = form_text("chain")
    try:
        with transaction(write=True) as session:
            request_recompute(session, code)  # the commit asks the job queue for the refresh
            record(session, "indicators_recompute", code)
    except DomainError as exc:
        return refused("admin.jobs_page", exc)
    return done(
        "admin.jobs_page",
        f"Recomputing {code}: every round is marked stale and a refresh is queued; a job worker will pick it up.",
    )
