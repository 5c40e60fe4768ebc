"""`flask jobs ...`: run the job worker, and see what it did."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import AppGroup

from app.db import transaction
from app.jobs import jobs_of
from app.models import JobStatus
from app.services.indicators import status

jobs_cli = AppGroup("jobs", help="The job queue that keeps the indicators up to date.")


@jobs_cli.command("worker")
@click.option("--workers", default=2, show_default=True, help="Worker threads (or processes) in this consumer.")
@click.option("--processes", is_flag=True, help="Run the workers as processes instead of threads.")
@click.option("--no-periodic", is_flag=True, help="Do not run the periodic sweep in this consumer.")
def worker(workers: int, processes: bool, no_periodic: bool) -> None:
    """Consume the queue (JOBS_URL: the embedded SQLite file, or Redis shared by several workers and machines).

    Stops cleanly on SIGINT (finishes running tasks) and at once on SIGTERM; a task that was running is retried
    by the periodic sweep, because its stale marks are still there.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    jobs = jobs_of(current_app)
    consumer = jobs.huey.create_consumer(
        workers=workers,
        worker_type="process" if processes else "thread",
        periodic=not no_periodic,
        max_delay=0.5,  # an idle worker looks at the queue at least twice a second (freshness)
    )
    click.echo(f"Job worker on {current_app.extensions['settings'].jobs_url.split('@')[-1]}, {workers} workers.")
    consumer.run()


@jobs_cli.command("status")
@click.option("--failed", is_flag=True, help="Only failed runs.")
@click.option("--limit", default=20, show_default=True)
def show(failed: bool, limit: int) -> None:
    """Queued tasks and the latest job runs, with their errors."""
    jobs = jobs_of(current_app)
    click.echo(f"queued: {jobs.huey.pending_count()}, scheduled: {jobs.huey.scheduled_count()}")
    with transaction() as session:
        runs = status.job_runs(session, JobStatus.FAILED if failed else None, limit)
        for run in runs:
            took = f"{(run.finished_at - run.started_at).total_seconds():.1f} s" if run.finished_at else "-"
            click.echo(f"{run.started_at:%Y-%m-%d %H:%M:%S} {run.task} {run.args} {run.status.value} {took}")
            if run.error:
                click.echo("    " + run.error.strip().splitlines()[-1])
