"""GET /healthz: 200 when the database answers at the migration head, 503 with the reason otherwise."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from app import create_app
from app.config import Settings, load_settings
from app.db import engine_of, transaction
from app.services.backup.schema import head_revision


def test_a_migrated_reachable_database_is_healthy(client: FlaskClient) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json == {"status": "ok", "database": "ok", "schema": head_revision(), "head": head_revision()}
    assert answer.headers["Cache-Control"] == "no-store"


def test_a_database_behind_the_code_is_unhealthy(app: Flask, client: FlaskClient) -> None:
    stamp = text("UPDATE alembic_version SET version_num = :v")
    with app.app_context(), transaction(write=True) as session:
        session.execute(stamp, {"v": "ea58a63a8ed1"})
    try:
        answer = client.get("/healthz")
    finally:  # the PostgreSQL test database is shared by the session's tests: put the real revision back
        with app.app_context(), transaction(write=True) as session:
            session.execute(stamp, {"v": head_revision()})
    assert answer.status_code == 503
    assert answer.json is not None
    assert answer.json["schema"] == "ea58a63a8ed1"
    assert "db upgrade" in answer.json["detail"]


def health_of(database_url: str, settings: Settings) -> tuple[int, dict[str, object]]:
    """/healthz of an app on ``database_url`` (the rest of the test's settings)."""
    other = load_settings(
        {
            "DATABASE_URL": database_url,
            "CHAINLIFT_INSTANCE_PATH": str(settings.instance_path),
            "MEDIA_ROOT": str(settings.media_root),
            "SECRET_KEY": settings.secret_key,
        }
    )
    app = create_app(other)
    try:
        answer = app.test_client().get("/healthz")
    finally:
        engine_of(app).dispose()
    assert answer.json is not None
    return answer.status_code, answer.json


def test_an_unreachable_database_is_a_503(settings: Settings) -> None:
    closed_port = "postgresql+psycopg://postgres@127.0.0.1:1/nothing?connect_timeout=2"
    assert health_of(closed_port, settings) == (503, {"status": "unavailable", "database": "unreachable"})


def test_an_empty_database_is_not_ready(settings: Settings, tmp_path: Path) -> None:
    status, body = health_of(f"sqlite:///{tmp_path}/empty.sqlite3", settings)
    assert status == 503
    assert body["schema"] is None
