"""Fieldwork queries on a small demo panel plus seeded problems: every expectation is recomputed here in Python from
plain rows, never taken from the service under test."""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections import Counter, defaultdict

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from app.db import transaction
from app.errors import InvalidError, NotFoundError
from app.models import (
    Firm,
    FirmContact,
    FirmObservation,
    ReviewState,
    Role,
    Submission,
    SubmissionReview,
    SurveyRound,
    User,
)
from app.services import fieldwork, fieldwork_checks, fieldwork_review
from app.services.fieldwork import Filters
from app.vocab import ProcessingStatus
from tests.browser.seed import LISTED, REVIEW_BULK, UNKNOWN_FIRM, UNKNOWN_ROUND, seed_fieldwork
from tests.helpers import PASSWORD, Factory, prepare_survey

Key = tuple[dt.date, str]


@pytest.fixture
def panel(app: Flask, factory: Factory) -> Flask:
    """A one-chain demo panel over two rounds, then the browser site's seeded problems."""
    prepare_survey(app, factory)
    args = ["demo", "generate", "--chains", "1", "--firms", "14", "--rounds", "2", "--seed", "5", "--load"]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    seed_fieldwork(app)
    return app


def _expected_counts(app: Flask, basis: str) -> dict[Key, Counter[str]]:
    """(day, enumerator) -> counts of submissions and of each status, dated as the page says."""
    with app.app_context(), transaction() as session:
        rows = session.execute(
            select(Submission.created_at, FirmObservation.interview_start, User.username, Submission.processing_status)
            .outerjoin(FirmObservation, FirmObservation.submission_id == Submission.id)
            .outerjoin(User, User.id == Submission.submitter_id)
        ).all()
    counts: dict[Key, Counter[str]] = defaultdict(Counter)
    for received, started, user, status in rows:
        moment = received if basis == "received" or started is None else started
        key = (moment.astimezone(dt.UTC).date(), user or fieldwork.UNKNOWN_ENUMERATOR)
        counts[key]["submissions"] += 1
        counts[key][status.value if status else "none"] += 1
    return counts


def _cells(activity: fieldwork.Activity) -> dict[Key, Counter[str]]:
    return {
        key: Counter({"submissions": c.submissions, "needs_review": c.needs_review, "duplicate": c.duplicates})
        for key, c in activity.cells.items()
    }


def _without_other_statuses(counts: dict[Key, Counter[str]]) -> dict[Key, Counter[str]]:
    keep = ("submissions", ProcessingStatus.NEEDS_REVIEW.value, ProcessingStatus.DUPLICATE.value)
    return {key: Counter({k: v for k, v in c.items() if k in keep}) for key, c in counts.items()}


@pytest.mark.parametrize("basis", ["interview", "received"])
def test_counts_per_day_and_enumerator_match_the_rows(panel: Flask, basis: fieldwork.Basis) -> None:
    expected = _without_other_statuses(_expected_counts(panel, basis))
    with panel.app_context(), transaction() as session:
        found = fieldwork.activity(session, Filters(basis=basis))
    assert _cells(found) == expected  # Counter equality treats a missing status as zero
    assert found.total.submissions == sum(c["submissions"] for c in expected.values())
    days = {day for day, _ in expected}
    assert list(found.days) == sorted(days)
    assert len({day for day, _ in expected}) > (1 if basis == "interview" else 0)


def test_filters_narrow_the_counts(panel: Flask) -> None:
    everything = _expected_counts(panel, "interview")
    first_day = min(day for day, _ in everything)
    with panel.app_context(), transaction() as session:
        mine = fieldwork.activity(session, Filters(enumerator=LISTED))
        early = fieldwork.activity(session, Filters(date_from=first_day, date_to=first_day))
        r1 = fieldwork.activity(session, Filters(round="R1"))
        r1_id = session.scalar(select(SurveyRound.id).where(SurveyRound.code == "R1"))
        in_r1 = session.scalar(select(func.count(Submission.id)).where(Submission.round_id == r1_id))
    assert [e.name for e in mine.enumerators] == [LISTED]
    assert mine.total.submissions == sum(c["submissions"] for (_, who), c in everything.items() if who == LISTED)
    assert mine.total.needs_review == 2 and mine.total.duplicates == 1
    assert set(early.days) == {first_day}
    assert early.total.submissions == sum(c["submissions"] for (day, _), c in everything.items() if day == first_day)
    assert in_r1
    assert r1.total.submissions == in_r1


def test_median_duration_per_enumerator(panel: Flask) -> None:
    with panel.app_context(), transaction() as session:
        rows = session.execute(
            select(User.username, FirmObservation.duration_seconds)
            .join(Submission, Submission.submitter_id == User.id)
            .join(FirmObservation, FirmObservation.submission_id == Submission.id)
        ).all()
        found = fieldwork.activity(session, Filters())
    durations: dict[str, list[int]] = defaultdict(list)
    for who, seconds in rows:
        if seconds is not None:
            durations[who].append(seconds)
    by_name = {e.name: e for e in found.enumerators}
    for who, values in durations.items():
        assert by_name[who].median_duration == pytest.approx(statistics.median(values))
    assert by_name[LISTED].median_duration is None
    assert by_name[LISTED].needs_review_share == pytest.approx(2 / 3)


def test_duplicates_name_the_submission_that_counts(panel: Flask) -> None:
    with panel.app_context(), transaction() as session:
        listing = fieldwork_checks.duplicates(session, Filters(enumerator=LISTED))
        (duplicate,) = listing.rows
        seeded = session.get(Submission, duplicate.row.id)
        assert seeded is not None
        counted = session.scalar(
            select(Submission)
            .join(FirmObservation, FirmObservation.submission_id == Submission.id)
            .where(FirmObservation.firm_id == seeded.firm_id, FirmObservation.round_id == seeded.round_id)
        )
    assert listing.total == 1
    assert counted is not None and duplicate.counted_id == counted.id
    assert duplicate.counted_instance_id == counted.instance_id
    assert duplicate.other_enumerator  # the demo user interviewed it first
    assert duplicate.row.firm is not None and duplicate.row.round == "R1"


def test_the_review_queue_shows_errors_and_leaves_out_decided_submissions(panel: Flask, factory: Factory) -> None:
    manager = factory.user("boss", Role.MANAGER)
    with panel.app_context(), transaction() as session:
        queue = fieldwork_checks.needing_review(session, Filters(enumerator=LISTED))
        manager_id = session.scalar(select(User.id).where(User.username == manager.username))
    messages = {row.id: " ".join(e["message"] for e in row.errors) for row in queue.rows}
    assert queue.total == 2
    assert sorted(UNKNOWN_FIRM in m or f"'{UNKNOWN_ROUND}'" in m for m in messages.values()) == [True, True]
    first = queue.rows[0].id
    assert manager_id is not None
    with panel.app_context(), transaction(write=True) as session:
        fieldwork_review.review_submissions(session, [first], manager_id, ReviewState.APPROVED, "seen")
    with panel.app_context(), transaction() as session:
        pending = fieldwork_checks.needing_review(session, Filters(enumerator=LISTED))
        everything = fieldwork_checks.needing_review(session, Filters(enumerator=LISTED), pending_only=False)
        shown = fieldwork_review.detail(session, first)
    assert [r.id for r in pending.rows] == [r.id for r in queue.rows[1:]]
    assert {r.id for r in everything.rows} == set(messages)
    assert [(e.user.username, e.state, e.comment) for e in shown.history] == [("boss", ReviewState.APPROVED, "seen")]


def test_a_bulk_review_with_a_missing_submission_changes_nothing(panel: Flask, factory: Factory) -> None:
    factory.user("boss", Role.MANAGER)
    with panel.app_context(), transaction() as session:
        ids = [r.id for r in fieldwork_checks.needing_review(session, Filters(enumerator=REVIEW_BULK)).rows]
        boss = session.scalar(select(User.id).where(User.username == "boss"))
    assert len(ids) == 3 and boss is not None
    with panel.app_context(), transaction(write=True) as session, pytest.raises(NotFoundError):
        fieldwork_review.review_submissions(session, [*ids, 10**9], boss, ReviewState.REJECTED, None)
    with panel.app_context(), transaction() as session:
        assert session.scalars(select(SubmissionReview)).all() == []


def _expected_outliers(app: Flask) -> set[int]:
    with app.app_context(), transaction() as session:
        rows = session.execute(
            select(Submission.id, Submission.form_pk, FirmObservation.round_id, FirmObservation.duration_seconds).join(
                FirmObservation, FirmObservation.submission_id == Submission.id
            )
        ).all()
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for _, form, round_id, seconds in rows:
        if seconds is not None and seconds > 0:
            groups[(form, round_id)].append(seconds)
    flagged = set()
    for pk, form, round_id, seconds in rows:
        values = groups[(form, round_id)]
        if seconds is None or len(values) < fieldwork_checks.MIN_NORM:
            continue
        median = statistics.median(values)
        if seconds <= 0 or seconds < median / 4 or seconds > 3 * median:
            flagged.add(pk)
    return flagged


def test_duration_outliers_follow_the_documented_rule(panel: Flask) -> None:
    assert _expected_outliers(panel) == set()  # the demo's durations are all plausible
    with panel.app_context(), transaction(write=True) as session:
        ids = list(session.scalars(select(FirmObservation.id).order_by(FirmObservation.id).limit(3)))
        for pk, seconds in zip(ids, (60, 6 * 3600, -30), strict=True):
            session.execute(update(FirmObservation).where(FirmObservation.id == pk).values(duration_seconds=seconds))
    expected = _expected_outliers(panel)
    with panel.app_context(), transaction() as session:
        found = fieldwork_checks.duration_outliers(session, Filters())
        in_other_round = fieldwork_checks.duration_outliers(session, Filters(round="R1"))
    assert len(expected) == 3
    assert {o.row.id for o in found.rows} == expected and found.total == 3
    assert sorted(o.reason for o in found.rows) == ["ends before it starts", "long", "short"]
    assert {o.row.id for o in in_other_round.rows} == {o.row.id for o in found.rows if o.row.round == "R1"}


def test_firms_registered_twice_under_one_name(panel: Flask) -> None:
    with panel.app_context(), transaction(write=True) as session:
        first, second = session.scalars(select(FirmContact).order_by(FirmContact.firm_id).limit(2))
        assert first.firm_name is not None
        second.firm_name = f"  {first.firm_name.upper()} "
        codes = set(session.scalars(select(Firm.panel_code).where(Firm.id.in_([first.firm_id, second.firm_id]))))
    with panel.app_context(), transaction() as session:
        found = fieldwork_checks.double_registrations(session, Filters())
    assert {r.panel_code for r in found.rows} == codes and found.total == 2


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        (Filters(form="nope"), "no form 'nope'"),
        (Filters(round="R7"), "no survey round 'R7'"),
        (Filters(chain="XX"), "no value chain 'XX'"),
        (Filters(enumerator="ghost"), "no user 'ghost'"),
        (Filters(date_from=dt.date(2025, 2, 1), date_to=dt.date(2025, 1, 1)), "ends before it starts"),
    ],
)
def test_unknown_filter_values_are_refused(panel: Flask, filters: Filters, message: str) -> None:
    with panel.app_context(), transaction() as session, pytest.raises(InvalidError, match=message):
        fieldwork.activity(session, filters)


def _csrf(html: str) -> str:
    found = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


@pytest.fixture
def manager_client(panel: Flask, factory: Factory) -> FlaskClient:
    factory.user("boss", Role.MANAGER, PASSWORD)
    client = panel.test_client()
    token = _csrf(client.get("/login").get_data(as_text=True))
    answer = client.post("/login", data={"username": "boss", "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 302
    return client


def _reviews(app: Flask) -> int:
    with app.app_context(), transaction() as session:
        return len(session.scalars(select(SubmissionReview)).all())


def test_review_forms_refuse_bad_input_and_change_nothing(panel: Flask, manager_client: FlaskClient) -> None:
    page = manager_client.get(f"/dashboard/fieldwork/?enumerator={REVIEW_BULK}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    ids = re.findall(r'name="submission" value="(\d+)"', html)
    assert len(ids) == 3
    token = _csrf(html)
    cases: list[tuple[dict[str, str | list[str]], str]] = [
        ({"submission": ids, "state": "edited"}, "Choose an action"),
        ({"submission": ids, "state": "approved", "comment": "x" * 2001}, "at most 2000 characters"),
        ({"state": "approved"}, "Select at least one submission"),
        ({"submission": ["12a"], "state": "approved"}, "not understood"),
        ({"submission": [*ids, "999999"], "state": "approved"}, "no longer exist: 999999"),
    ]
    for data, message in cases:
        answer = manager_client.post(
            "/dashboard/fieldwork/review", data={**data, "csrf_token": token}, follow_redirects=True
        )
        assert answer.status_code == 200
        assert message in answer.get_data(as_text=True)
    assert _reviews(panel) == 0


def test_a_review_goes_back_only_to_a_fieldwork_page(panel: Flask, manager_client: FlaskClient) -> None:
    html = manager_client.get(f"/dashboard/fieldwork/?enumerator={REVIEW_BULK}").get_data(as_text=True)
    pk = re.findall(r'name="submission" value="(\d+)"', html)[0]
    token = _csrf(html)
    for target, expected in (
        ("https://evil.example/dashboard/fieldwork/", f"/dashboard/fieldwork/submissions/{pk}"),
        ("/dashboard/fieldwork/?round=R1", "/dashboard/fieldwork/?round=R1"),
    ):
        answer = manager_client.post(
            f"/dashboard/fieldwork/submissions/{pk}/review",
            data={"state": "hasIssues", "next": target, "csrf_token": token},
        )
        assert answer.status_code == 302 and answer.headers["Location"] == expected
    assert _reviews(panel) == 2


def test_the_page_refuses_bad_filters_with_a_400(manager_client: FlaskClient) -> None:
    answer = manager_client.get("/dashboard/fieldwork/?basis=weekly&from=2026-01-01")
    assert answer.status_code == 400
    assert "Count by must be one of" in answer.get_data(as_text=True)
    assert manager_client.get("/dashboard/fieldwork/submissions/999999").status_code == 404
