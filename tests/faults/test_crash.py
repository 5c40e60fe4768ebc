"""SIGKILL the server (master and workers) and the job worker several times during a burst; the phones retry
until acknowledged, as Collect does. Every acknowledged submission is there once, complete; once the jobs settle,
the stored indicators are those of a clean recompute."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

import pytest
from flask import Flask

from app.config import Settings
from tests.faults.checks import differences, pending_marks, problems, recomputed_indicators, stored_indicators
from tests.faults.processes import JobWorker
from tests.faults.survey import baseline_interviews, with_attachments
from tests.faults.traffic import ACKNOWLEDGED, Clients, Retry, plan
from tests.helpers import MadeUser
from tests.indicators.worker import wait_for
from tests.live import Server

SURVEY, WITH_FILES = 360, 120
CLIENTS = 8
KILLS_AT = (0.15, 0.35, 0.55, 0.75)  # share of the posts acknowledged when the server and the worker are killed


def _reached(clients: Clients, share: float, total: int) -> Callable[[], bool]:
    return lambda: clients.acknowledged() >= share * total


@pytest.mark.timeout(600)
def test_killed_server_and_worker_lose_nothing_acknowledged_and_indicators_catch_up(
    app: Flask, settings: Settings, enumerators: list[MadeUser]
) -> None:
    instances = baseline_interviews(app, SURVEY) + with_attachments(WITH_FILES)
    rng = random.Random(3)  # noqa: S311 - a reproducible mix, not a secret
    rng.shuffle(instances)
    posts = plan(instances, 0.10, 0.0, rng)
    server, worker = Server(settings, workers=3, threads=4), JobWorker(settings)
    clients = Clients(lambda: server.base, enumerators, CLIENTS)
    server.start()
    worker.start()
    try:
        burst = threading.Thread(target=clients.run, args=(posts, Retry(until=time.monotonic() + 400)))
        burst.start()
        kills = 0
        for share in KILLS_AT:
            wait_for(_reached(clients, share, len(posts)), 300, f"{share:.0%} acknowledged")
            server.kill()
            worker.kill()
            kills += 1
            time.sleep(rng.uniform(0.2, 1.0))  # the phones meet a dead server for a while
            worker.start()
            server.start()
        burst.join()
        assert kills == len(KILLS_AT)

        unacknowledged = [p.seq for p in posts if clients.outcomes[p.seq].final not in ACKNOWLEDGED]
        assert not unacknowledged, [clients.outcomes[s].answers for s in unacknowledged[:5]]
        assert any(len(clients.outcomes[p.seq].answers) > 1 for p in posts)  # the kills hit the burst
        assert problems(app, instances, settings.media_root) == []
        wait_for(lambda: pending_marks(app) == 0, 180, "the jobs to settle")
    finally:
        worker.stop()
        server.stop()
    clean = recomputed_indicators(app)
    assert len({key[:2] for key in clean}) == 9  # every chain's baseline, each with many indicators
    different = differences(stored_indicators(app), clean)
    assert not different, (len(different), list(different.items())[:5])
