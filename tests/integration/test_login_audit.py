"""Dashboard and API sign-ins: recorded in the audit log, throttled after repeated failures, secrets never kept."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.db import transaction
from app.models import AuditEvent, Role
from app.services import audit
from tests.helpers import PASSWORD, Factory


def csrf_token(client: FlaskClient) -> str:
    page = client.get("/login").get_data(as_text=True)
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def sign_in(client: FlaskClient, username: str, password: str) -> tuple[int, dict[str, str]]:
    answer = client.post("/login", data={"username": username, "password": password, "csrf_token": csrf_token(client)})
    return answer.status_code, dict(answer.headers)


def events(app: Flask) -> list[tuple[str, str | None, str | None, dict[str, object]]]:
    with app.app_context(), transaction() as session:
        rows = session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        return [(e.action, e.actor_name, e.ip, e.detail) for e in rows]


def test_a_sign_in_and_out_are_recorded_without_the_password(app: Flask, client: FlaskClient, factory: Factory) -> None:
    factory.user("manager1", Role.MANAGER)
    assert sign_in(client, "manager1", "wrong password")[0] == 401
    status, headers = sign_in(client, "manager1", PASSWORD)
    assert status == 302
    assert headers["Location"].endswith("/dashboard/")
    page = client.get("/dashboard/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    assert client.post("/logout", data={"csrf_token": token.group(1)}).status_code == 302
    recorded = events(app)
    assert [(a, n) for a, n, _, _ in recorded] == [
        (audit.LOGIN_FAILED, "manager1"),
        ("login", "manager1"),
        ("logout", "manager1"),
    ]
    assert all(ip == "127.0.0.1" for _, _, ip, _ in recorded)
    assert PASSWORD not in repr(recorded)
    assert "wrong password" not in repr(recorded)


def test_repeated_failures_lock_the_name_out_even_with_the_password(client: FlaskClient, factory: Factory) -> None:
    factory.user("manager2", Role.MANAGER)
    for _ in range(audit.MAX_FAILURES_PER_NAME):
        assert sign_in(client, "manager2", "guess")[0] == 401
    status, headers = sign_in(client, "manager2", PASSWORD)
    assert status == 429
    assert 0 < int(headers["Retry-After"]) <= audit.WINDOW.total_seconds() + 1
    # Another user from elsewhere is not affected by this name's lock.
    factory.user("manager3", Role.MANAGER)
    assert sign_in(client, "manager3", PASSWORD)[0] == 302


def test_the_api_token_endpoint_shares_the_lock(client: FlaskClient, factory: Factory) -> None:
    factory.user("manager4", Role.MANAGER)
    for _ in range(audit.MAX_FAILURES_PER_NAME - 1):
        assert client.post("/api/v1/auth/token", json={"username": "manager4", "password": "guess"}).status_code == 401
    assert sign_in(client, "manager4", "guess")[0] == 401
    answer = client.post("/api/v1/auth/token", json={"username": "manager4", "password": PASSWORD})
    assert answer.status_code == 429
    assert answer.json is not None
    assert answer.json["status"] == 429
    assert "Retry-After" in answer.headers


def test_an_enumerators_sign_in_is_refused_and_recorded(app: Flask, client: FlaskClient, factory: Factory) -> None:
    factory.user("enum9", Role.ENUMERATOR)
    assert sign_in(client, "enum9", PASSWORD)[0] == 403
    assert client.get("/dashboard/").status_code == 302
    assert [a for a, *_ in events(app)] == ["login_refused"]
