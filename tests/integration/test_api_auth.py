"""JSON API: bearer tokens (issue, revoke, expiry, deactivation), roles, problems, and the OpenAPI document."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from app.db import transaction, utcnow
from app.models import ApiToken, Role
from app.services import tokens, users
from tests.helpers import Factory
from tests.integration.test_api_support import Staff, load_panel, make_staff, ok, problem

DATA_ENDPOINTS = [
    "/api/v1/firms",
    "/api/v1/firms/KE-AVO-00001",
    "/api/v1/submissions",
    "/api/v1/submissions/uuid:x",
    "/api/v1/catalogue/chains",
    "/api/v1/catalogue/reasons",
    "/api/v1/catalogue/rounds",
]


@pytest.fixture
def staff(client: FlaskClient, factory: Factory) -> Staff:
    return make_staff(client, factory)


def _record(app: Flask, token: str) -> ApiToken:
    with app.app_context(), transaction() as session:
        record = session.scalar(
            select(ApiToken).where(ApiToken.token_hash == hashlib.sha256(token.encode()).hexdigest())
        )
        assert record is not None
        return record


def test_a_token_is_issued_for_a_password_and_stored_only_as_its_hash(client: FlaskClient, factory: Factory) -> None:
    user = factory.user("max", Role.MANAGER)
    before = utcnow()
    body = ok(client.post("/api/v1/auth/token", json={"username": "max", "password": user.password}), 201)
    assert set(body) == {"token", "expires_at", "role"}
    assert body["role"] == "manager"
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", body["token"])  # token_urlsafe(32)
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert expires.utcoffset() == dt.timedelta(0)
    assert before + dt.timedelta(hours=24) <= expires <= utcnow() + dt.timedelta(hours=24)
    record = _record(client.application, body["token"])
    assert record.revoked_at is None
    with client.application.app_context(), transaction() as session:
        stored = session.execute(select(ApiToken.__table__)).all()
    assert len(stored) == 1
    assert body["token"] not in repr(stored)  # nowhere in clear
    second = ok(client.post("/api/v1/auth/token", json={"username": "max", "password": user.password}), 201)
    assert second["token"] != body["token"]


@pytest.mark.parametrize(
    ("username", "password"),
    [("max", "not the password"), ("nobody", "correct horse battery"), ("max", "")],
)
def test_wrong_credentials_get_a_401_problem(
    client: FlaskClient, factory: Factory, username: str, password: str
) -> None:
    factory.user("max", Role.MANAGER)
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    if password:
        body = problem(response, 401)
        assert "user name or password" in body["detail"]
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    else:
        body = problem(response, 422)
        assert list(body["errors"]) == ["password"]
    with client.application.app_context(), transaction() as session:
        assert session.scalars(select(ApiToken)).all() == []


def test_token_request_validation_names_the_fields(client: FlaskClient) -> None:
    body = problem(client.post("/api/v1/auth/token", json={"username": "max", "extra": 1}), 422)
    assert body["errors"] == {"password": ["Missing data for required field."], "extra": ["Unknown field."]}
    problem(client.post("/api/v1/auth/token", data="{not json", content_type="application/json"), 400)


@pytest.mark.parametrize("path", DATA_ENDPOINTS)
def test_no_or_bad_token_is_a_401_with_a_bearer_challenge(client: FlaskClient, staff: Staff, path: str) -> None:
    missing = client.get(path)
    assert problem(missing, 401)["detail"].startswith("This API needs 'Authorization: Bearer")
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="ChainLift API"'
    for header in (f"Bearer {staff.manager.token}x", "Bearer ", f"Basic {staff.manager.token}", "Token abc"):
        response = client.get(path, headers={"Authorization": header})
        problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith('Bearer realm="ChainLift API"')
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_revoked_token_stops_working(client: FlaskClient, staff: Staff) -> None:
    headers = staff.manager.headers
    ok(client.get("/api/v1/catalogue/rounds", headers=headers))
    response = client.delete("/api/v1/auth/token", headers=headers)
    assert response.status_code == 204
    assert response.data == b""
    assert _record(client.application, staff.manager.token).revoked_at is not None
    problem(client.get("/api/v1/catalogue/rounds", headers=headers), 401)
    problem(client.delete("/api/v1/auth/token", headers=headers), 401)
    ok(client.get("/api/v1/catalogue/rounds", headers=staff.admin.headers))  # other tokens are untouched
    problem(client.delete("/api/v1/auth/token"), 401)


def test_expired_token_stops_working(client: FlaskClient, staff: Staff) -> None:
    ok(client.get("/api/v1/catalogue/rounds", headers=staff.manager.headers))
    digest = hashlib.sha256(staff.manager.token.encode()).hexdigest()
    with client.application.app_context(), transaction(write=True) as session:
        session.execute(
            update(ApiToken).where(ApiToken.token_hash == digest).values(expires_at=utcnow() - dt.timedelta(seconds=1))
        )
    body = problem(client.get("/api/v1/catalogue/rounds", headers=staff.manager.headers), 401)
    assert "expired" in body["detail"]


def test_expiry_is_exact_at_24_hours(app: Flask, factory: Factory) -> None:
    user = factory.user("max", Role.MANAGER)
    issued_at = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
    with app.app_context(), transaction(write=True) as session:
        issued = tokens.issue(session, users.get_user(session, user.username), now=issued_at)
    with app.app_context(), transaction() as session:
        end = issued_at + dt.timedelta(hours=24)
        assert tokens.authenticate(session, issued.token, now=end - dt.timedelta(microseconds=1)) is not None
        assert tokens.authenticate(session, issued.token, now=end) is None
        assert tokens.authenticate(session, issued.token + "x", now=issued_at) is None


def test_deactivated_users_tokens_stop_working(client: FlaskClient, staff: Staff) -> None:
    ok(client.get("/api/v1/catalogue/rounds", headers=staff.manager.headers))
    with client.application.app_context(), transaction(write=True) as session:
        users.deactivate(session, staff.manager.user.username)
    problem(client.get("/api/v1/catalogue/rounds", headers=staff.manager.headers), 401)
    problem(client.post("/api/v1/auth/token", json={"username": "max", "password": staff.manager.user.password}), 401)


def test_last_used_is_recorded(client: FlaskClient, staff: Staff) -> None:
    assert _record(client.application, staff.admin.token).last_used_at is None
    ok(client.get("/api/v1/catalogue/reasons", headers=staff.admin.headers))
    used = _record(client.application, staff.admin.token).last_used_at
    assert used is not None
    assert tokens.as_utc(used) <= utcnow()


@pytest.mark.parametrize("path", DATA_ENDPOINTS)
def test_enumerators_are_refused_everywhere_but_auth(client: FlaskClient, staff: Staff, path: str) -> None:
    body = problem(client.get(path, headers=staff.enumerator.headers), 403)
    assert "enumerators" in body["detail"]


def test_enumerators_cannot_review_but_can_drop_their_token(client: FlaskClient, staff: Staff) -> None:
    headers = staff.enumerator.headers
    problem(client.post("/api/v1/submissions/uuid:x/review", json={"state": "approved"}, headers=headers), 403)
    problem(
        client.post("/api/v1/submissions/review", json={"instance_ids": ["a"], "state": "approved"}, headers=headers),
        403,
    )
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204


def test_managers_and_admins_may_read(client: FlaskClient, factory: Factory, staff: Staff) -> None:
    load_panel(client.application, factory)
    for caller in (staff.manager, staff.admin):
        assert [r["code"] for r in ok(client.get("/api/v1/catalogue/rounds", headers=caller.headers))["items"]] == [
            "R0",
            "R1",
        ]
        assert ok(client.get("/api/v1/firms", headers=caller.headers)) == {"items": [], "next_cursor": None}
        assert ok(client.get("/api/v1/submissions", headers=caller.headers)) == {"items": [], "next_cursor": None}


def test_errors_under_the_api_are_problems_and_elsewhere_are_not(client: FlaskClient, staff: Staff) -> None:
    headers = staff.manager.headers
    assert "There is no API endpoint" in problem(client.get("/api/v1/nothing/here", headers=headers), 404)["detail"]
    problem(client.get("/api/v1", headers=headers), 404)
    problem(client.get("/api/v1/firms/NO-SUCH-1", headers=headers), 404)
    wrong_method = client.put("/api/v1/firms", headers=headers)
    problem(wrong_method, 405)
    assert set(wrong_method.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    delete_only = client.get("/api/v1/auth/token")
    problem(delete_only, 405)
    assert set(delete_only.headers["Allow"].split(", ")) == {"POST", "DELETE", "OPTIONS"}
    bad_limit = problem(client.get("/api/v1/firms?limit=0", headers=headers), 422)
    assert bad_limit["errors"] == {"limit": ["Must be greater than or equal to 1 and less than or equal to 500."]}
    # the other front doors keep their own formats
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"
    openrosa = client.get("/formList")
    assert openrosa.status_code == 401 and b"<OpenRosaResponse" in openrosa.data


def test_an_unexpected_error_is_a_500_problem(
    client: FlaskClient, staff: Staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("boom: secret internals")

    monkeypatch.setattr("app.api.v1.catalogue.rounds.list_rounds", broken)
    client.application.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/api/v1/catalogue/rounds", headers=staff.manager.headers)
    body = problem(response, 500)
    assert "secret" not in response.get_data(as_text=True)
    assert body["title"] == "Internal Server Error"


def _rule_to_openapi(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def test_openapi_document_lists_every_route(app: Flask, client: FlaskClient) -> None:
    doc = ok(client.get("/api/v1/openapi.json"))
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["title"] == "ChainLift API"
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    assert doc["security"] == [{"bearerAuth": []}]
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api_v1."):
            methods = {m.lower() for m in rule.methods or ()} - {"head", "options"}
            routes.setdefault(_rule_to_openapi(rule.rule), set()).update(methods)
    assert len(routes) == 17  # incl. GET /kobo/hooks, /kobo/assets, the four /indicators routes and /jobs
    assert {path: set(ops) - {"parameters"} for path, ops in doc["paths"].items()} == routes
    assert doc["paths"]["/api/v1/auth/token"]["post"]["security"] == []
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            expected = {"401"} if path.endswith("/auth/token") else {"401", "403"}
            assert expected <= set(operation["responses"]), (path, method)
    problem_ref = {"$ref": "#/components/schemas/ProblemOut"}
    assert doc["components"]["responses"]["FORBIDDEN"]["content"] == {
        "application/problem+json": {"schema": problem_ref}
    }
    assert "contact" in doc["components"]["schemas"]["FirmDetailOut"]["properties"]
    firm_list = doc["paths"]["/api/v1/firms"]["get"]
    assert {p["name"] for p in firm_list["parameters"]} == {"chain", "round", "participant_status", "limit", "cursor"}
