"""`flask submissions ...`: re-derive domain rows from the raw submissions."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.db import transaction
from app.models import Form, Submission
from app.services import processing

submissions_cli = AppGroup("submissions", help="Stored submissions and the rows derived from them.")
BATCH = 200


@submissions_cli.command("reprocess")
@click.option("--form", "form_id", help="Only submissions to this form id.")
@click.option("--since", type=click.DateTime(), help="Only submissions received since (UTC), e.g. 2026-11-01.")
def reprocess(form_id: str | None, since: dt.datetime | None) -> None:
    """Re-derive firms, observations and decisions from the raw submissions, after a mapping or catalogue fix.

    Idempotent: a submission whose rows would not change is left untouched. Commits every 200 submissions, so
    an interrupted run can simply be started again.
    """
    stmt = select(Submission.id).where(Submission.deleted_at.is_(None)).order_by(Submission.id)
    if form_id:
        stmt = stmt.join(Form, Form.id == Submission.form_pk).where(Form.form_id == form_id)
    if since:
        stmt = stmt.where(Submission.created_at >= since.replace(tzinfo=dt.UTC))
    with transaction() as session:
        ids = list(session.scalars(stmt))
    outcome: Counter[str] = Counter()
    changed = 0
    with click.progressbar(length=len(ids), label="Reprocessing", show_pos=True) as bar:
        for start in range(0, len(ids), BATCH):
            with transaction(write=True) as session:
                for submission in session.scalars(
                    select(Submission).where(Submission.id.in_(ids[start : start + BATCH]))
                ):
                    changed += processing.process(session, submission)
                    outcome[submission.processing_status.value if submission.processing_status else "none"] += 1
            bar.update(min(BATCH, len(ids) - start))
    summary = ", ".join(f"{n} {status}" for status, n in sorted(outcome.items())) or "no submissions"
    click.echo(f"{len(ids)} submissions: {summary}; {changed} changed.")
