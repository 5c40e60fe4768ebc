"""The fieldwork page in a real browser: its numbers against the database and the API, review actions (one and
bulk) checked in the database and the history shown, CSRF, and who is refused.

The review tests act only on the submissions ``tests/browser/seed.py`` posted for them (one enumerator each).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from typing import Any

import requests
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.db import transaction
from app.models import FirmObservation, ReviewState, Role, Submission, SubmissionReview, User
from app.vocab import ProcessingStatus
from tests.browser.conftest import sign_in
from tests.browser.seed import BULK_SIZE, LISTED, REVIEW_BULK, REVIEW_ONE, UNKNOWN_FIRM, UNKNOWN_ROUND
from tests.browser.site import Site

PAGE = "/dashboard/fieldwork/"
Counts = dict[str, Counter[str]]


def _database_counts(site: Site, basis: str) -> tuple[Counts, Counts]:
    """Per day and per enumerator: submissions, needing review, duplicates; straight from the tables."""
    with site.app.app_context(), transaction() as session:
        rows = session.execute(
            select(Submission.created_at, FirmObservation.interview_start, User.username, Submission.processing_status)
            .outerjoin(FirmObservation, FirmObservation.submission_id == Submission.id)
            .outerjoin(User, User.id == Submission.submitter_id)
            .where(Submission.deleted_at.is_(None))
        ).all()
    days: Counts = defaultdict(Counter)
    people: Counts = defaultdict(Counter)
    for received, started, user, status in rows:
        moment = started if basis == "interview" and started is not None else received
        for bucket in (days[moment.astimezone(dt.UTC).date().isoformat()], people[user or "(unknown)"]):
            bucket["submissions"] += 1
            bucket["needs_review"] += status is ProcessingStatus.NEEDS_REVIEW
            bucket["duplicates"] += status is ProcessingStatus.DUPLICATE
    return days, people


def _table(page: Page, table: str) -> dict[str, Counter[str]]:
    """First column -> the counts in the next columns (submissions, needing review[, share], duplicates)."""
    cells: list[list[str]] = page.locator(f"#{table} tbody tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.cells, c => c.textContent.trim()))"
    )
    found: dict[str, Counter[str]] = {}
    for row in cells:
        duplicates = row[4] if table == "per-enumerator-table" else row[3]
        found[row[0]] = Counter(submissions=int(row[1]), needs_review=int(row[2]), duplicates=int(duplicates))
    return found


def _chart(page: Page) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(page.locator("#fw-chart").get_attribute("data-chart") or "{}")
    return data


def test_per_day_and_per_enumerator_numbers_equal_the_database(manager_page: Page, site: Site) -> None:
    spread: dict[str, int] = {}
    for basis in ("interview", "received"):
        manager_page.goto(site.url(f"{PAGE}?basis={basis}"))
        days, people = _database_counts(site, basis)
        assert _table(manager_page, "per-day-table") == days
        assert _table(manager_page, "per-enumerator-table") == people
        chart = _chart(manager_page)
        assert chart["days"] == sorted(days)
        per_day = [sum(values) for values in zip(*(t["y"] for t in chart["traces"]), strict=True)]
        assert per_day == [days[d]["submissions"] for d in chart["days"]]
        expect(manager_page.locator("#fw-chart .main-svg").first).to_be_attached()  # plotly drew it
        spread[basis] = len(days)
    assert spread["interview"] > 1  # the demo's fieldwork lasts days; it was all received at once


def test_a_seeded_enumerator_matches_the_api(manager_page: Page, site: Site) -> None:
    api = site.api("/api/v1/submissions", enumerator=LISTED).json()["items"]
    manager_page.goto(site.url(f"{PAGE}?enumerator={LISTED}"))
    shown = _table(manager_page, "per-enumerator-table")
    statuses = Counter(item["processing_status"] for item in api)
    assert shown == {
        LISTED: Counter(submissions=len(api), needs_review=statuses["needs_review"], duplicates=statuses["duplicate"])
    }
    queue = manager_page.locator("#queue-table tbody tr")
    expect(queue).to_have_count(statuses["needs_review"])
    expect(manager_page.locator("#queue-table")).to_contain_text(f"There is no firm with panel code '{UNKNOWN_FIRM}'")
    expect(manager_page.locator("#queue-table")).to_contain_text(f"There is no survey round '{UNKNOWN_ROUND}'")
    duplicate = manager_page.locator("#duplicates-table tbody tr")
    expect(duplicate).to_have_count(statuses["duplicate"])
    expect(duplicate).to_contain_text("another enumerator")
    (listed_duplicate,) = [item for item in api if item["processing_status"] == "duplicate"]
    expect(duplicate).to_contain_text(listed_duplicate["firm"])


def _submissions_of(site: Site, username: str) -> list[Submission]:
    with site.app.app_context(), transaction() as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
        found = list(session.scalars(select(Submission).where(Submission.submitter_id == user_id)))
        session.expunge_all()
    return found


def _events(site: Site, submission_id: int) -> list[tuple[str, ReviewState, str | None]]:
    with site.app.app_context(), transaction() as session:
        rows = session.execute(
            select(User.username, SubmissionReview.state, SubmissionReview.comment)
            .join(User, User.id == SubmissionReview.user_id)
            .where(SubmissionReview.submission_id == submission_id)
            .order_by(SubmissionReview.id)
        ).all()
    return [(who, state, comment) for who, state, comment in rows]


def _history(page: Page) -> list[list[str]]:
    rows: list[list[str]] = page.locator("#history-table tbody tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.cells).slice(1).map(c => c.textContent.trim()))"
    )
    return rows


def test_a_review_action_on_one_submission_is_recorded_and_shown(manager_page: Page, site: Site) -> None:
    (target,) = _submissions_of(site, REVIEW_ONE)
    manager = site.users[Role.MANAGER].username
    manager_page.goto(site.url(f"{PAGE}?enumerator={REVIEW_ONE}"))
    manager_page.get_by_role("link", name=target.instance_id).click()
    expect(manager_page.locator("#no-history")).to_be_visible()
    manager_page.fill("textarea[name=comment]", "Panel code misread: call the enumerator")
    manager_page.get_by_role("button", name="Has issues").click()
    expect(manager_page.get_by_role("status")).to_contain_text("marked as having issues")
    assert _events(site, target.id) == [(manager, ReviewState.HAS_ISSUES, "Panel code misread: call the enumerator")]
    assert _history(manager_page) == [[manager, "hasIssues", "Panel code misread: call the enumerator"]]

    manager_page.get_by_role("button", name="Approve").click()
    expect(manager_page.get_by_role("status")).to_contain_text("approved")
    expect(manager_page.locator("#review-state")).to_have_text("approved")
    assert [state for _, state, _ in _events(site, target.id)] == [ReviewState.HAS_ISSUES, ReviewState.APPROVED]
    assert _history(manager_page)[1] == [manager, "approved", ""]
    (after,) = _submissions_of(site, REVIEW_ONE)
    assert after.review_state is ReviewState.APPROVED
    manager_page.goto(site.url(f"{PAGE}?enumerator={REVIEW_ONE}"))  # decided: out of the pending queue
    expect(manager_page.locator("#queue-table")).to_have_count(0)


def test_a_bulk_review_is_recorded_for_every_selected_submission(admin_page: Page, site: Site) -> None:
    targets = _submissions_of(site, REVIEW_BULK)
    assert len(targets) == BULK_SIZE
    admin = site.users[Role.ADMIN].username
    admin_page.goto(site.url(f"{PAGE}?enumerator={REVIEW_BULK}"))
    queue = admin_page.locator("#queue-form")
    queue.get_by_label("Select all needing review").check()
    queue.get_by_label("Action").select_option("rejected")
    queue.get_by_label("Comment (optional)").fill("Firm not in the panel")
    queue.get_by_role("button", name="Apply to selected").click()
    expect(admin_page.get_by_role("status")).to_contain_text(f"{BULK_SIZE} submissions rejected")
    expect(admin_page).to_have_url(site.url(f"{PAGE}?enumerator={REVIEW_BULK}"))
    expect(admin_page.locator("#queue-table")).to_have_count(0)
    for target in _submissions_of(site, REVIEW_BULK):
        assert target.review_state is ReviewState.REJECTED
        assert _events(site, target.id) == [(admin, ReviewState.REJECTED, "Firm not in the panel")]
    admin_page.goto(site.url(f"{PAGE}submissions/{targets[0].id}"))
    assert _history(admin_page) == [[admin, "rejected", "Firm not in the panel"]]


def test_a_review_post_without_the_csrf_token_is_refused(manager_page: Page, site: Site) -> None:
    target = _submissions_of(site, LISTED)[0]
    cookies = {c["name"]: c["value"] for c in manager_page.context.cookies()}
    for path in (f"{PAGE}review", f"{PAGE}submissions/{target.id}/review"):
        answer = requests.post(
            site.url(path),
            data={"submission": str(target.id), "state": "approved"},
            cookies=cookies,
            timeout=30,
            allow_redirects=False,
        )
        assert answer.status_code == 400
    assert _events(site, target.id) == []


def test_an_enumerator_is_refused(page: Page, site: Site) -> None:
    page.goto(site.url(PAGE))
    sign_in(page, site, Role.ENUMERATOR)
    expect(page.get_by_role("alert")).to_contain_text("ODK Collect")
    response = page.goto(site.url(PAGE))
    assert response is not None and response.url.startswith(site.url("/login"))
    assert requests.get(site.url(PAGE), timeout=30, allow_redirects=False).status_code == 302


def test_bad_filters_get_a_readable_page(manager_page: Page, site: Site) -> None:
    for query, message in (("from=31/12/2025", "is not a date"), ("enumerator=ghost", "There is no user 'ghost'")):
        response = manager_page.goto(site.url(f"{PAGE}?{query}"))
        assert response is not None and response.status == 400
        expect(manager_page.get_by_role("alert")).to_contain_text(message)
        expect(manager_page.locator("#per-day-table")).to_have_count(0)


def test_the_page_fits_a_phone(manager_page: Page, site: Site) -> None:
    manager_page.set_viewport_size({"width": 375, "height": 800})
    manager_page.goto(site.url(PAGE))
    expect(manager_page.locator("#per-enumerator-table")).to_be_visible()
    overflow = manager_page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
