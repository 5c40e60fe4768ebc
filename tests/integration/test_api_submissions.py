"""JSON API: submissions (filters, cursor pages, detail) and review actions, one at a time and in bulk."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from app.db import transaction
from app.models import FirmObservation, FirmRound, Role, Submission, SubmissionReview, UpgradingDecision
from tests.helpers import Factory, submit
from tests.integration.test_api_support import Caller, Staff, load_panel, login, make_staff, ok, problem, walk
from tests.processing_helpers import mini_instance

RECEIVED = {
    "uuid:s1": dt.datetime(2026, 1, 10, 12, 0, tzinfo=dt.UTC),
    "uuid:s2": dt.datetime(2026, 1, 11, 0, 0, tzinfo=dt.UTC),
    "uuid:s3": dt.datetime(2026, 1, 11, 23, 59, 59, tzinfo=dt.UTC),
    "uuid:s4": dt.datetime(2026, 1, 12, 0, 0, tzinfo=dt.UTC),
    "one": dt.datetime(2026, 1, 15, 8, 30, tzinfo=dt.UTC),
}
# Benefit 7 is off the 1-5 scale: the submission is stored but needs review.
INVALID = (("KE-AVO-PROC-SPRAY", "1", "2023", "", "7", ""),)


@pytest.fixture
def staff(client: FlaskClient, factory: Factory) -> Staff:
    load_panel(client.application, factory)
    return make_staff(client, factory)


@pytest.fixture
def enum2(client: FlaskClient, factory: Factory) -> Caller:
    return login(client, factory.user("enum2", Role.ENUMERATOR))


def _set_received(app: Flask, instance_id: str, when: dt.datetime) -> None:
    with app.app_context(), transaction(write=True) as session:
        session.execute(update(Submission).where(Submission.instance_id == instance_id).values(created_at=when))


@pytest.fixture
def five(client: FlaskClient, factory: Factory, staff: Staff, enum2: Caller, odk: Path) -> list[str]:
    """s1 mapped (enum1), s2 needs review, s3 mapped (enum2, another firm), s4 a refusal, one: another form."""
    enum1 = staff.enumerator.user.prefix
    assert submit(client, enum1, mini_instance(instance_id="uuid:s1")).status_code == 201
    assert submit(client, enum1, mini_instance(instance_id="uuid:s2", decisions=INVALID)).status_code == 201
    assert submit(client, enum2.user.prefix, mini_instance(instance_id="uuid:s3")).status_code == 201
    assert submit(client, enum1, mini_instance(instance_id="uuid:s4", consent="0")).status_code == 201
    factory.publish(odk / "forms/simple.xml")
    assert submit(client, enum1, (odk / "instances/simple/one.xml").read_bytes()).status_code == 201
    for instance_id, when in RECEIVED.items():
        _set_received(client.application, instance_id, when)
    return list(RECEIVED)


def _ids(client: FlaskClient, caller: Caller, query: str) -> list[str]:
    pages = walk(client, f"/api/v1/submissions?{query}", caller, "instance_id")
    return [instance_id for page in pages for instance_id in page]


def test_list_items_say_what_became_of_each_submission(client: FlaskClient, staff: Staff, five: list[str]) -> None:
    items = {i["instance_id"]: i for i in ok(client.get("/api/v1/submissions", headers=staff.manager.headers))["items"]}
    assert list(items) == five
    assert items["uuid:s1"] == {
        "instance_id": "uuid:s1",
        "form_id": "mini",
        "form_version": "1",
        "submitter": "enum1",
        "received_at": "2026-01-10T12:00:00+00:00",
        "updated_at": None,
        "review_state": None,
        "processing_status": "mapped",
        "firm": "KE-AVO-00001",
        "round": "R0",
        "error_count": 0,
    }
    assert (items["uuid:s2"]["processing_status"], items["uuid:s2"]["firm"]) == ("needs_review", None)
    assert items["uuid:s2"]["error_count"] == 1
    assert items["uuid:s3"]["firm"] == "KE-AVO-00002" and items["uuid:s3"]["submitter"] == "enum2"
    assert items["uuid:s4"]["processing_status"] == "refused"
    assert (items["one"]["form_id"], items["one"]["processing_status"]) == ("simple", "not_mapped")


def test_pages_walk_every_submission_once(client: FlaskClient, staff: Staff, five: list[str]) -> None:
    pages = walk(client, "/api/v1/submissions?limit=2", staff.admin, "instance_id")
    assert pages == [five[0:2], five[2:4], five[4:5]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=needs_review", ["uuid:s2"]),
        ("status=mapped", ["uuid:s1", "uuid:s3"]),
        ("form=mini", ["uuid:s1", "uuid:s2", "uuid:s3", "uuid:s4"]),
        ("form=simple", ["one"]),
        ("enumerator=enum2", ["uuid:s3"]),
        ("enumerator=enum1&status=mapped", ["uuid:s1"]),
        ("received_from=2026-01-11&received_to=2026-01-11", ["uuid:s2", "uuid:s3"]),
        ("received_from=2026-01-12", ["uuid:s4", "one"]),
        ("received_to=2026-01-10", ["uuid:s1"]),
        ("received_to=2026-01-09", []),
        ("form=mini&received_from=2026-01-11&limit=1", ["uuid:s2", "uuid:s3", "uuid:s4"]),
    ],
)
def test_filters(client: FlaskClient, staff: Staff, five: list[str], query: str, expected: list[str]) -> None:
    assert _ids(client, staff.manager, query) == expected


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("form=nope", {"form": ["There is no form 'nope'."]}),
        ("enumerator=ghost", {"enumerator": ["There is no user 'ghost'."]}),
        ("received_from=2026-01-12&received_to=2026-01-11", {"received_to": ["received_to is before received_from."]}),
        ("received_from=yesterday", {"received_from": ["Not a valid date."]}),
        ("status=lost", {"status": ["Must be one of: mapped, needs_review, duplicate, refused, not_mapped."]}),
    ],
)
def test_bad_filters_are_422_problems_naming_the_parameter(
    client: FlaskClient, staff: Staff, query: str, errors: dict[str, list[str]]
) -> None:
    assert problem(client.get(f"/api/v1/submissions?{query}", headers=staff.manager.headers), 422)["errors"] == errors


def test_detail_has_errors_versions_and_attachments(
    client: FlaskClient, factory: Factory, staff: Staff, five: list[str], odk: Path
) -> None:
    headers = staff.manager.headers
    flagged = ok(client.get("/api/v1/submissions/uuid:s2", headers=headers))
    assert flagged["processing_errors"] == [
        {
            "path": "dec[1]/benefit",
            "field": "decision[0].benefit",
            "message": flagged["processing_errors"][0]["message"],
        }
    ]
    assert "5" in flagged["processing_errors"][0]["message"]
    assert flagged["reviews"] == [] and flagged["attachments"] == []
    assert [v["instance_id"] for v in flagged["versions"]] == ["uuid:s2"]

    edit = mini_instance(instance_id="uuid:s1-edit", deprecated_id="uuid:s1", sales="5000")
    assert submit(client, staff.enumerator.user.prefix, edit).status_code == 201
    edited = ok(client.get("/api/v1/submissions/uuid:s1", headers=headers))
    assert [(v["instance_id"], v["deprecated_id"], v["current"]) for v in edited["versions"]] == [
        ("uuid:s1", None, False),
        ("uuid:s1-edit", "uuid:s1", True),
    ]
    assert edited["versions"][0]["received_at"] < edited["versions"][1]["received_at"]
    assert edited["review_state"] == "edited" and edited["updated_at"] is not None
    problem(client.get("/api/v1/submissions/uuid:s1-edit", headers=headers), 404)  # named by its first ID

    factory.publish(odk / "forms/binaryType.xml")
    mp4 = (odk / "attachments/my_file1.mp4").read_bytes()
    both = (odk / "instances/binaryType/both.xml").read_bytes()
    assert submit(client, staff.enumerator.user.prefix, both, {"my_file1.mp4": mp4}).status_code == 201
    media = ok(client.get("/api/v1/submissions/both", headers=headers))
    assert [(a["name"], a["present"], a["size"]) for a in media["attachments"]] == [
        ("here_is_file2.jpg", False, None),
        ("my_file1.mp4", True, len(mp4)),
    ]
    assert media["versions"][0]["attachments"] == media["attachments"]


def test_an_instance_id_shared_by_two_forms_needs_the_form(
    client: FlaskClient, factory: Factory, staff: Staff, five: list[str], odk: Path
) -> None:
    factory.publish(odk / "forms/binaryType.xml")
    twin = (odk / "instances/binaryType/both.xml").read_bytes().replace(b"<instanceID>both<", b"<instanceID>one<")
    assert submit(client, staff.enumerator.user.prefix, twin).status_code == 201
    headers = staff.manager.headers
    body = problem(client.get("/api/v1/submissions/one", headers=headers), 409)
    assert "binaryType" in body["detail"] and "simple" in body["detail"]
    assert ok(client.get("/api/v1/submissions/one?form=simple", headers=headers))["form_id"] == "simple"
    assert ok(client.get("/api/v1/submissions/one?form=binaryType", headers=headers))["form_id"] == "binaryType"
    problem(client.get("/api/v1/submissions/one?form=nope", headers=headers), 404)
    problem(client.post("/api/v1/submissions/one/review", json={"state": "approved"}, headers=headers), 409)
    reviewed = client.post("/api/v1/submissions/one/review?form=simple", json={"state": "approved"}, headers=headers)
    assert ok(reviewed)["review_state"] == "approved"
    twin_state = ok(client.get("/api/v1/submissions/one?form=binaryType", headers=headers))["review_state"]
    assert twin_state is None
    bulk = {"instance_ids": ["one"], "state": "rejected"}
    problem(client.post("/api/v1/submissions/review", json=bulk, headers=headers), 409)
    ok(client.post("/api/v1/submissions/review", json={**bulk, "form": "binaryType"}, headers=headers))
    problem(client.get("/api/v1/submissions/uuid:nothing", headers=headers), 404)


def _count(app: Flask, model: type) -> int:
    with app.app_context(), transaction() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _review(client: FlaskClient, caller: Caller, instance_id: str, state: str, comment: str | None = None) -> Any:
    body = {"state": state} if comment is None else {"state": state, "comment": comment}
    return ok(client.post(f"/api/v1/submissions/{instance_id}/review", json=body, headers=caller.headers))


def test_review_history_and_rejection_takes_the_rows_out(client: FlaskClient, staff: Staff, five: list[str]) -> None:
    app = client.application
    assert _count(app, FirmObservation) == 2
    approved = _review(client, staff.manager, "uuid:s1", "approved", "Checked with the supervisor")
    assert approved["review_state"] == "approved"
    assert [(r["state"], r["user"], r["comment"]) for r in approved["reviews"]] == [
        ("approved", "max", "Checked with the supervisor")
    ]

    rejected = _review(client, staff.admin, "uuid:s1", "rejected", "Interview not done at the firm")
    assert rejected["review_state"] == "rejected"
    assert rejected["processing_status"] == "mapped"  # what processing made of it is kept; its rows are gone
    assert [(r["state"], r["user"]) for r in rejected["reviews"]] == [("approved", "max"), ("rejected", "ada")]
    assert rejected["reviews"][0]["created_at"] <= rejected["reviews"][1]["created_at"]
    firm = ok(client.get("/api/v1/firms/KE-AVO-00001", headers=staff.manager.headers))
    assert firm["observations"] == [] and firm["decisions"] == []
    assert firm["rounds"][0]["interviewed"] is False
    assert _count(app, FirmObservation) == 1  # s3's
    with app.app_context(), transaction() as session:
        assert session.scalar(select(FirmRound.submission_id).where(FirmRound.submission_id.is_not(None))) is not None
        assert session.scalar(select(func.count()).select_from(UpgradingDecision)) == 1

    restored = _review(client, staff.manager, "uuid:s1", "approved")
    assert restored["review_state"] == "approved" and restored["processing_status"] == "mapped"
    assert [r["comment"] for r in restored["reviews"]] == [
        "Checked with the supervisor",
        "Interview not done at the firm",
        None,
    ]
    firm = ok(client.get("/api/v1/firms/KE-AVO-00001", headers=staff.manager.headers))
    assert [o["submission"]["instance_id"] for o in firm["observations"]] == ["uuid:s1"]
    assert firm["rounds"][0]["interviewed"] is True
    assert ok(client.get("/api/v1/submissions/uuid:s1", headers=staff.admin.headers))["reviews"] == restored["reviews"]


def test_approving_a_submission_that_needs_review_creates_no_rows(
    client: FlaskClient, staff: Staff, five: list[str]
) -> None:
    before = _count(client.application, FirmObservation)
    approved = _review(client, staff.manager, "uuid:s2", "approved", "Benefit was 5; fix in the next version")
    assert (approved["review_state"], approved["processing_status"], approved["error_count"]) == (
        "approved",
        "needs_review",
        1,
    )
    assert _count(client.application, FirmObservation) == before
    assert _ids(client, staff.manager, "review_state=approved") == ["uuid:s2"]


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"state": "edited"}, {"state": ["Must be one of: approved, rejected, hasIssues."]}),
        ({}, {"state": ["Missing data for required field."]}),
        ({"state": "approved", "note": "x"}, {"note": ["Unknown field."]}),
        ({"state": "approved", "comment": "x" * 2001}, {"comment": ["Longer than maximum length 2000."]}),
    ],
)
def test_review_input_is_checked(
    client: FlaskClient, staff: Staff, five: list[str], body: dict[str, object], errors: dict[str, list[str]]
) -> None:
    response = client.post("/api/v1/submissions/uuid:s1/review", json=body, headers=staff.manager.headers)
    assert problem(response, 422)["errors"] == errors
    assert _count(client.application, SubmissionReview) == 0


def test_bulk_review_is_all_or_nothing(client: FlaskClient, staff: Staff, five: list[str]) -> None:
    headers = staff.manager.headers
    body = {"instance_ids": ["uuid:s1", "uuid:s3", "uuid:s1"], "state": "hasIssues", "comment": "Call back"}
    done = ok(client.post("/api/v1/submissions/review", json=body, headers=headers))
    assert [(i["instance_id"], i["review_state"]) for i in done["items"]] == [
        ("uuid:s1", "hasIssues"),
        ("uuid:s3", "hasIssues"),
    ]
    for instance_id in ("uuid:s1", "uuid:s3"):
        reviews = ok(client.get(f"/api/v1/submissions/{instance_id}", headers=headers))["reviews"]
        assert [(r["state"], r["comment"], r["user"]) for r in reviews] == [("hasIssues", "Call back", "max")]

    partly_unknown = {"instance_ids": ["uuid:s1", "uuid:nope", "uuid:s4", "uuid:nada"], "state": "rejected"}
    refused = problem(client.post("/api/v1/submissions/review", json=partly_unknown, headers=headers), 404)
    assert refused["unknown_instance_ids"] == ["uuid:nope", "uuid:nada"]
    assert "uuid:nope" in refused["detail"] and "uuid:nada" in refused["detail"]
    states = {
        i["instance_id"]: i["review_state"] for i in ok(client.get("/api/v1/submissions", headers=headers))["items"]
    }
    assert states == {"uuid:s1": "hasIssues", "uuid:s2": None, "uuid:s3": "hasIssues", "uuid:s4": None, "one": None}
    assert _count(client.application, SubmissionReview) == 2
    assert _count(client.application, FirmObservation) == 2  # nothing was rejected

    everything = {"instance_ids": five, "state": "rejected", "comment": None}
    assert len(ok(client.post("/api/v1/submissions/review", json=everything, headers=headers))["items"]) == 5
    assert _count(client.application, FirmObservation) == 0
    assert _count(client.application, SubmissionReview) == 7


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"instance_ids": [], "state": "approved"}, {"instance_ids": ["Length must be between 1 and 500."]}),
        ({"instance_ids": [3, "ok"], "state": "approved"}, {"instance_ids.0": ["Not a valid string."]}),
        ({"instance_ids": "uuid:s1", "state": "approved"}, {"instance_ids": ["Not a valid list."]}),
        ({"state": "approved"}, {"instance_ids": ["Missing data for required field."]}),
    ],
)
def test_bulk_review_input_is_checked(
    client: FlaskClient, staff: Staff, body: dict[str, object], errors: dict[str, list[str]]
) -> None:
    response = client.post("/api/v1/submissions/review", json=body, headers=staff.manager.headers)
    assert problem(response, 422)["errors"] == errors
