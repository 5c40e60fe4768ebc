"""The huey instance of an app, its tasks, and the hook that asks for a refresh once a change has committed."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flask import Flask
from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.api import TaskWrapper
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.config import Settings
from app.jobs import tasks
from app.services.indicators.staleness import STALE_CHAINS

log = logging.getLogger(__name__)

DEBOUNCE_SECONDS = 1.0  # a burst of changes to a chain asks for at most two refreshes per process per second
RETRIES, RETRY_DELAY = 3, 5
KOBO_SYNC_MINUTES = 15  # every configured KoboToolbox asset is pulled this often


def make_huey(settings: Settings) -> Huey:
    url = settings.jobs_url
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        # synchronous=NORMAL in WAL: a crash may lose the last enqueue, never corrupt; the sweep re-finds the marks
        return SqliteHuey(settings.jobs_queue, filename=path, results=False, fsync=False, timeout=10)
    return RedisHuey(settings.jobs_queue, url=url, results=False)


class Jobs:
    """One app's queue and tasks. Web processes enqueue; ``flask jobs worker`` consumes."""

    def __init__(self, app: Flask, settings: Settings) -> None:
        self.app = app
        self.huey = make_huey(settings)
        self._next_window: dict[int, float] = {}  # chain -> when this process may queue an immediate refresh again
        self._trailing: dict[int, float] = {}  # chain -> the end of the window whose trailing refresh is scheduled
        self._guard = threading.Lock()
        self.refresh_chain: TaskWrapper = self.huey.task(
            retries=RETRIES, retry_delay=RETRY_DELAY, context=True, name="indicators.refresh_chain"
        )(self._refresh_chain)
        self.sweep: TaskWrapper = self.huey.periodic_task(crontab(minute="*"), name="indicators.sweep")(self._sweep)
        self.kobo_sync: TaskWrapper = self.huey.periodic_task(
            crontab(minute=f"*/{KOBO_SYNC_MINUTES}"), name="kobo.sync_all"
        )(self._kobo_sync)

    def _refresh_chain(self, chain_id: int, task: Any = None) -> dict[str, Any]:
        return tasks.refresh_chain(self, chain_id, task)

    def _sweep(self) -> dict[str, Any]:
        return tasks.sweep(self)

    def _kobo_sync(self) -> dict[str, Any]:
        return tasks.kobo_sync(self)

    def request_refresh(self, chain_ids: Iterable[int], window: float = DEBOUNCE_SECONDS) -> None:
        """Queue a refresh of each chain: at once the first time in a window, then one trailing refresh at its end.

        A refresh reads the marks committed before it starts, so a change committed now is covered either by the
        refresh queued now or by the trailing one scheduled for later. Never raises: the change is committed, and
        the periodic sweep finds marks whose refresh could not be queued.
        """
        now = time.monotonic()
        for chain_id in chain_ids:
            with self._guard:
                opens = self._next_window.get(chain_id, 0.0)
                if now >= opens:
                    self._next_window[chain_id] = now + window
                    delay = 0.0
                elif self._trailing.get(chain_id, 0.0) < opens:
                    self._trailing[chain_id] = opens
                    delay = opens - now
                else:
                    continue  # the trailing refresh of this window will see this change
            try:
                if delay:
                    self.refresh_chain.schedule((chain_id,), delay=delay)
                else:
                    self.refresh_chain(chain_id)
            except Exception:
                log.warning("could not queue the refresh of chain %s; the periodic sweep will", chain_id, exc_info=True)
                with self._guard:
                    self._next_window.pop(chain_id, None)
                    self._trailing.pop(chain_id, None)


def jobs_of(app: Flask) -> Jobs:
    jobs: Jobs = app.extensions["jobs"]
    return jobs


def init_app(app: Flask, settings: Settings) -> None:
    jobs = Jobs(app, settings)
    app.extensions["jobs"] = jobs
    sessions = app.extensions["sessionmaker"]

    @event.listens_for(sessions, "after_commit")
    def _after_commit(session: Session) -> None:
        chains = session.info.pop(STALE_CHAINS, None)
        if chains:
            jobs.request_refresh(chains)

    @event.listens_for(sessions, "after_rollback")
    def _after_rollback(session: Session) -> None:  # the outermost transaction rolled back: nothing was marked
        session.info.pop(STALE_CHAINS, None)
