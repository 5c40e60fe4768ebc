"""What the tasks do. Each runs in an app context; the transactions are here, at the boundary.

``refresh_chain`` recomputes every (chain, round) with stale marks, oldest first; ``sweep`` (every minute) queues
refreshes whose trigger was lost, marks runs of killed workers as interrupted and prunes old run records.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import traceback
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, update

from app.db import transaction, utcnow
from app.jobs.fanout import compute_and_store
from app.models import JobRun, JobStatus
from app.services.indicators.refresh import pending, record_failure
from app.services.kobo_sync import sync_all as kobo_sync_all

if TYPE_CHECKING:
    from app.jobs.queue import Jobs

log = logging.getLogger(__name__)

MISSED_AFTER = dt.timedelta(seconds=30)  # marks this old with no refresh running: their trigger was lost
INTERRUPTED_AFTER = dt.timedelta(minutes=15)
KEEP_SUCCEEDED = dt.timedelta(days=7)

_chain_locks: dict[int, threading.Lock] = defaultdict(threading.Lock)


def _start(task: Any, name: str, args: dict[str, Any]) -> int:
    attempt = 1 + (getattr(task, "default_retries", 0) or 0) - (getattr(task, "retries", 0) or 0)
    with transaction(write=True) as session:
        run = JobRun(
            task_id=str(getattr(task, "id", "") or ""), task=name, args=args, status=JobStatus.RUNNING, attempt=attempt
        )
        session.add(run)
        session.flush()
        return run.id


def _finish(run_id: int, status: JobStatus, detail: dict[str, Any], error: str | None = None) -> None:
    with transaction(write=True) as session:
        session.execute(
            update(JobRun)
            .where(JobRun.id == run_id)
            .values(status=status, finished_at=utcnow(), detail=detail, error=error)
        )


def refresh_chain(jobs: Jobs, chain_id: int, task: Any = None) -> dict[str, Any]:
    lock = _chain_locks[chain_id]
    if not lock.acquire(blocking=False):
        # Another thread of this worker is refreshing the chain: it looks for marks again once it has let go of
        # the lock (below), so the changes that brought us here are not left waiting for a retry or the sweep.
        return {"busy": True}
    try:
        with jobs.app.app_context():
            result = _refresh(chain_id, task)
    finally:
        lock.release()
    with jobs.app.app_context(), transaction() as session:
        if pending(session, chain_id):  # changes arrived while we computed (or found us busy): another pass, now
            jobs.refresh_chain.schedule((chain_id,), delay=0)
    return result


def _refresh(chain_id: int, task: Any) -> dict[str, Any]:
    with transaction() as session:
        pairs = pending(session, chain_id)
    if not pairs:
        return {"pairs": 0}  # an earlier run already consumed the marks: nothing to recompute, nothing recorded
    run_id = _start(task, "indicators.refresh_chain", {"chain_id": chain_id})
    done: list[dict[str, Any]] = []
    try:
        for result, stored in compute_and_store(pairs):
            done.append({"round_id": result.round_id, "results": len(result.rows), "stored": stored})
    except Exception as exc:
        log.exception("recomputing the indicators of chain %s failed", chain_id)
        with transaction(write=True) as session:
            for c, r in pairs:
                record_failure(session, c, r, f"{type(exc).__name__}: {exc}")
        status = JobStatus.RETRYING if getattr(task, "retries", 0) else JobStatus.FAILED
        _finish(run_id, status, {"pairs": done}, traceback.format_exc(limit=8))
        raise
    _finish(run_id, JobStatus.SUCCEEDED, {"pairs": done})
    return {"pairs": len(done)}


def sweep(jobs: Jobs) -> dict[str, Any]:
    now = utcnow()
    with jobs.app.app_context():
        with transaction() as session:
            missed = sorted({c for c, _ in pending(session, older_than=now - MISSED_AFTER)})
        with transaction(write=True) as session:
            session.execute(
                update(JobRun)
                .where(JobRun.status == JobStatus.RUNNING, JobRun.started_at < now - INTERRUPTED_AFTER)
                .values(status=JobStatus.INTERRUPTED, finished_at=now, error="The worker stopped while it ran.")
            )
            session.execute(
                delete(JobRun).where(JobRun.status == JobStatus.SUCCEEDED, JobRun.started_at < now - KEEP_SUCCEEDED)
            )
    for chain_id in missed:
        jobs.refresh_chain.schedule((chain_id,), delay=0)
    if missed:
        log.info("sweep: queued refreshes for chains %s", missed)
    return {"queued": missed}


def kobo_sync(jobs: Jobs) -> dict[str, Any]:
    """Pull every active KoboToolbox asset (new, edited and deleted records); one failing asset does not stop others."""
    with jobs.app.app_context():
        factory = jobs.app.extensions["sessionmaker"]
        results = kobo_sync_all(
            factory, blobs=jobs.app.extensions["blobs"], max_file_bytes=jobs.app.config["MAX_CONTENT_LENGTH"]
        )
    failed = [asset for asset, result in results if isinstance(result, Exception)]
    return {"assets": len(results), "failed": failed}
