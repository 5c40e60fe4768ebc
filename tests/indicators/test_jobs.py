"""Aggregation jobs: stale marks in the same transaction, a real worker on SQLite and on Redis storage, coalesced
refreshes, failures that stay visible, and the periodic sweep."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from app import create_app
from app.config import Settings
from app.db import engine_of, transaction, utcnow
from app.jobs import fanout, jobs_of, tasks
from app.models import IndicatorMark, IndicatorResult, IndicatorSet, JobRun, JobStatus, SurveyRound
from app.services.indicators import refresh
from tests.helpers import Factory, submit
from tests.indicators.loader import load_panel
from tests.indicators.panel import instance, make_panel
from tests.indicators.worker import running_worker, wait_for

REDIS_URL = "redis://127.0.0.1:6379/0"


def _marks(app: Flask) -> list[tuple[int, str, str]]:
    with app.app_context(), transaction() as session:
        rows = session.execute(
            select(IndicatorMark.value_chain_id, SurveyRound.code, IndicatorMark.reason).join(
                SurveyRound, SurveyRound.id == IndicatorMark.round_id
            )
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def _fresh(app: Flask) -> bool:
    with app.app_context(), transaction() as session:
        return session.scalar(select(func.count()).select_from(IndicatorMark)) == 0


def _stored(app: Flask) -> dict[tuple[object, ...], float | None]:
    with app.app_context(), transaction() as session:
        rows = session.execute(
            select(
                IndicatorResult.value_chain_id,
                IndicatorResult.round_id,
                IndicatorResult.code,
                IndicatorResult.measure,
                IndicatorResult.subject,
                IndicatorResult.disaggregation,
                IndicatorResult.group_value,
                IndicatorResult.weighting,
                IndicatorResult.value,
            )
        )
        return {tuple(row[:-1]): row[-1] for row in rows}


def _recompute_directly(app: Flask) -> None:
    with app.app_context():
        with transaction(snapshot=True) as session:
            computed = refresh.read_pairs(session, refresh.pairs_to_compute(session))
        for result in computed:
            with transaction(write=True) as session:
                refresh.store(session, result)


def test_a_follow_up_interview_marks_its_round_and_the_baseline_marks_every_later_round(
    app: Flask, client: FlaskClient, factory: Factory
) -> None:
    firms = make_panel(seed=3, firms=4)
    late = firms[0]
    late.visits.pop("R1", None)  # interviewed at baseline only, so far
    load_panel(app, client, factory, firms)
    _recompute_directly(app)
    assert _marks(app) == []
    user = factory.user("enum_more")
    late.visits["R1"] = late.visits["R0"]
    assert submit(client, user.prefix, instance(late, "R1")).status_code == 201
    assert {(code, reason) for _, code, reason in _marks(app)} == {("R1", "submission")}
    newcomer = dataclasses.replace(firms[1], name="Firm new", panel_code="")
    assert submit(client, user.prefix, instance(newcomer, "R0")).status_code == 201
    assert {code for _, code, _ in _marks(app)} == {"R0", "R1"}  # R1 compares with the baseline


def test_a_rolled_back_change_leaves_no_mark(app: Flask, client: FlaskClient, factory: Factory) -> None:
    load_panel(app, client, factory, make_panel(seed=4, firms=3))
    _recompute_directly(app)
    user = factory.user("enum_bad")
    response = submit(client, user.prefix, b"<data id='tc_panel' version='1'><round>R0</round></data>")
    assert response.status_code >= 400
    assert _marks(app) == []


@pytest.fixture(params=["sqlite", "redis"])
def queue_settings(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Settings]:
    """The embedded default (SQLite storage in instance/) and a shared Redis broker, with a queue of its own."""
    if request.param == "sqlite":
        yield settings
        return
    name = f"chainlift-test-{uuid.uuid4().hex[:8]}"
    yield dataclasses.replace(settings, jobs_url=REDIS_URL, jobs_queue=name)
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"huey.*{name}*"):
        client.delete(key)


@pytest.fixture
def queued_app(queue_settings: Settings) -> Iterator[Flask]:
    flask_app = create_app(queue_settings)
    flask_app.config["TESTING"] = True
    yield flask_app
    engine_of(flask_app).dispose()


def test_a_real_worker_brings_a_burst_up_to_date_with_a_handful_of_recomputations(
    queued_app: Flask, queue_settings: Settings
) -> None:
    client, factory = queued_app.test_client(), Factory(queued_app)
    firms = make_panel(seed=5, firms=40)
    with running_worker(queue_settings):
        started = time.monotonic()
        load_panel(queued_app, client, factory, firms)  # ~75 submissions and a weights upload, as a burst
        burst_seconds = time.monotonic() - started
        wait_for(lambda: _fresh(queued_app), timeout=90, what="the worker to consume every stale mark")
    served = _stored(queued_app)
    assert served, "the worker stored results"
    with queued_app.app_context(), transaction() as session:
        runs = list(session.scalars(select(JobRun)))
        sets = list(session.scalars(select(IndicatorSet)))
    assert all(run.status is JobStatus.SUCCEEDED for run in runs), [(r.status, r.error) for r in runs]
    changes = sum(len(firm.visits) for firm in firms)
    # at most one immediate and one trailing refresh per one-second window of the burst, whatever its length
    assert 1 <= len(runs) <= min(changes // 2, 2 * burst_seconds + 4), (len(runs), changes, burst_seconds)
    assert all(s.watermark > 0 and s.data_as_of is not None and s.last_error is None for s in sets)
    _recompute_directly(queued_app)  # what a clean computation of the same data gives
    assert _stored(queued_app) == served


def test_a_failed_refresh_is_recorded_and_shown(
    app: Flask, client: FlaskClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_panel(app, client, factory, make_panel(seed=6, firms=5))
    with app.app_context(), transaction() as session:
        chain_id = refresh.pending(session)[0][0]

    def broken(*_args: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(fanout, "read_pairs", broken)
    jobs = jobs_of(app)

    class LastAttempt:  # what huey passes as the task: no retries left
        id, retries, default_retries = "t-1", 0, 3

    with pytest.raises(RuntimeError):
        tasks.refresh_chain(jobs, chain_id, LastAttempt())
    with app.app_context(), transaction() as session:
        run = session.scalars(select(JobRun)).one()
        failed_sets = list(session.scalars(select(IndicatorSet).where(IndicatorSet.failures > 0)))
        still_pending = refresh.pending(session)
    assert run.status is JobStatus.FAILED and "disk on fire" in (run.error or "") and run.attempt == 4
    assert failed_sets and all("disk on fire" in (s.last_error or "") for s in failed_sets)
    assert still_pending, "the marks stay until a refresh succeeds"
    from tests.integration.test_api_support import make_staff

    staff = make_staff(client, factory)
    body = client.get("/api/v1/jobs?status=failed", headers=staff.manager.headers).get_json()
    assert [r["status"] for r in body["runs"]] == ["failed"] and "disk on fire" in body["runs"][0]["error"]
    pairs = client.get("/api/v1/indicators/status", headers=staff.manager.headers).get_json()["pairs"]
    assert any(p["stale"] and "disk on fire" in (p["last_error"] or "") for p in pairs)


def test_the_sweep_queues_refreshes_whose_trigger_was_lost(app: Flask, client: FlaskClient, factory: Factory) -> None:
    load_panel(app, client, factory, make_panel(seed=8, firms=3))
    jobs = jobs_of(app)
    jobs.huey.flush()  # the refresh requests are lost; only the marks remain
    assert jobs.huey.pending_count() == 0 and jobs.huey.scheduled_count() == 0
    assert tasks.sweep(jobs) == {"queued": []}  # fresh marks: a refresh may still be on its way
    with app.app_context(), transaction(write=True) as session:
        old = utcnow() - tasks.MISSED_AFTER * 2
        session.execute(update(IndicatorMark).values(marked_at=old))
    queued = tasks.sweep(jobs)["queued"]
    assert queued and jobs.huey.pending_count() == len(queued)
