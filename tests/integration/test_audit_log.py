"""The audit log: reviews, form publishes and user changes from every channel, and the admins' page."""

from __future__ import annotations

import html
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from app.db import transaction
from app.models import AuditEvent, Role
from tests.helpers import PASSWORD, Factory, submit
from tests.integration.test_admin_pages import Browser


def recorded(app: Flask) -> list[tuple[str, str | None, str | None, dict[str, object]]]:
    with app.app_context(), transaction() as session:
        return [(e.action, e.actor_name, e.target, e.detail) for e in session.scalars(select(AuditEvent))]


def test_the_cli_records_form_publishes_and_user_changes(app: Flask, odk: Path) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["forms", "publish", str(odk / "forms/simple.xml")]).exit_code == 0
    created = runner.invoke(
        args=["users", "create", "ann", "--role", "manager", "--password-stdin"], input="pw-ann-1234\n"
    )
    assert created.exit_code == 0, created.output
    assert runner.invoke(args=["users", "deactivate", "ann"]).exit_code == 0
    events = recorded(app)
    assert [(a, t) for a, _, t, _ in events] == [
        ("form_publish", "simple"),
        ("user_create", "ann"),
        ("user_deactivate", "ann"),
    ]
    assert all((who or "").startswith("cli:") for _, who, _, _ in events)
    assert "pw-ann-1234" not in repr(events)


def test_an_api_review_is_recorded_with_its_state_and_comment(app: Flask, factory: Factory, odk: Path) -> None:
    factory.publish(odk / "forms/simple.xml")
    enumerator = factory.user("enum_a")
    client = app.test_client()
    assert submit(client, enumerator.prefix, (odk / "instances/simple/one.xml").read_bytes()).status_code == 201
    manager = factory.user("mgr_a", Role.MANAGER)
    token = client.post("/api/v1/auth/token", json={"username": manager.username, "password": PASSWORD}).json
    assert token is not None
    headers = {"Authorization": f"Bearer {token['token']}"}
    answer = client.post(
        "/api/v1/submissions/one/review", json={"state": "rejected", "comment": "wrong firm"}, headers=headers
    )
    assert answer.status_code == 200, answer.json
    reviews = [(who, target, detail) for action, who, target, detail in recorded(app) if action == "review"]
    assert reviews == [("mgr_a", "one", {"state": "rejected", "previous": None, "comment": "wrong firm"})]


def test_admins_read_and_filter_the_log_and_managers_cannot(app: Flask, factory: Factory) -> None:
    factory.user("boss", Role.ADMIN)
    factory.user("mgr_b", Role.MANAGER)
    admin = Browser(app, "boss")
    Browser(app, "mgr_b")
    page = html.unescape(admin.get("/dashboard/admin/audit"))
    assert page.count('data-action="login"') == 2
    only = html.unescape(admin.get("/dashboard/admin/audit?user=mgr_b"))
    assert only.count('data-action="login"') == 1
    assert "mgr_b" in only
    assert Browser(app, "mgr_b").client.get("/dashboard/admin/audit").status_code == 403
    assert admin.client.get("/dashboard/admin/audit?before=x").status_code == 400


def test_exports_are_recorded_with_their_format_filters_and_personal_data(app: Flask, factory: Factory) -> None:
    factory.user("boss_e", Role.ADMIN)
    admin = Browser(app, "boss_e")
    assert admin.client.get("/dashboard/exports/firms.csv?personal=1").status_code == 200
    assert admin.client.get("/dashboard/exports/decisions.xlsx").status_code == 200
    token = admin.client.post("/api/v1/auth/token", json={"username": "boss_e", "password": PASSWORD}).json
    assert token is not None
    headers = {"Authorization": f"Bearer {token['token']}"}
    assert admin.client.get("/api/v1/indicators/export.csv?weighting=weighted", headers=headers).status_code == 200
    exports = [(who, target, detail) for action, who, target, detail in recorded(app) if action == "export"]
    assert exports == [
        ("boss_e", "firms", {"format": "csv", "personal_data": True}),
        ("boss_e", "decisions", {"format": "xlsx", "personal_data": False}),
        ("boss_e", "indicators", {"format": "csv", "via": "api", "weighting": "weighted"}),
    ]
