"""Fixtures: a migrated database per run (SQLite by default, PostgreSQL with --database-url), clean per test.

The schema under test is always the one the alembic migrations build, never ``create_all``. Tests commit for
real (the submission path's durability is part of what they check), so each test gets a fresh copy of the
migrated SQLite file, or, on PostgreSQL, every table is truncated after it.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic import command
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import make_url, text

from app import create_app
from app.cli.migrate import alembic_config
from app.config import Settings, load_settings
from app.db import Base, engine_of, make_engine
from tests.helpers import Factory

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "fixtures"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--database-url", default=None, help="Run the suite on this PostgreSQL server instead of SQLite.")


def pytest_report_header(config: pytest.Config) -> str:
    url = config.getoption("--database-url")
    return f"database: {make_url(url).render_as_string(hide_password=True) if url else 'SQLite (embedded default)'}"


class TestDatabase:
    """One migrated database for the session and a clean state for each test."""

    def __init__(self, server_url: str | None, workdir: Path) -> None:
        self.server_url = server_url
        self.workdir = workdir
        self.template = workdir / "template.sqlite3"
        self.pg_name = f"chainlift_test_{uuid.uuid4().hex[:10]}"

    @property
    def is_postgres(self) -> bool:
        return self.server_url is not None

    def _admin_dsn(self) -> str:
        assert self.server_url is not None
        return make_url(self.server_url).set(drivername="postgresql").render_as_string(hide_password=False)

    def create(self) -> None:
        if self.is_postgres:
            with psycopg.connect(self._admin_dsn(), autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.pg_name}"')
            command.upgrade(alembic_config(self.url_for_test(None)), "head")
        else:
            command.upgrade(alembic_config(f"sqlite:///{self.template}"), "head")

    def url_for_test(self, test_dir: Path | None) -> str:
        if self.is_postgres:
            assert self.server_url is not None
            return (
                make_url(self.server_url)
                .set(drivername="postgresql+psycopg", database=self.pg_name)
                .render_as_string(hide_password=False)
            )
        assert test_dir is not None
        target = test_dir / "chainlift.sqlite3"
        if not target.exists():
            shutil.copyfile(self.template, target)
        return f"sqlite:///{target}"

    def clean(self) -> None:
        if not self.is_postgres:
            return  # each test has its own copy
        engine = make_engine(self.url_for_test(None))
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()

    def drop(self) -> None:
        if self.is_postgres:
            with psycopg.connect(self._admin_dsn(), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def test_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestDatabase]:
    database = TestDatabase(request.config.getoption("--database-url"), tmp_path_factory.mktemp("db"))
    database.create()
    yield database
    database.drop()


@pytest.fixture
def settings(test_database: TestDatabase, tmp_path: Path) -> Iterator[Settings]:
    yield load_settings(
        {
            "DATABASE_URL": test_database.url_for_test(tmp_path),
            "CHAINLIFT_INSTANCE_PATH": str(tmp_path / "instance"),
            "MEDIA_ROOT": str(tmp_path / "media"),
            "SECRET_KEY": "test-secret-" + uuid.uuid4().hex,
        }
    )
    test_database.clean()


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    flask_app = create_app(settings)
    flask_app.config["TESTING"] = True
    yield flask_app
    engine_of(flask_app).dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def factory(app: Flask) -> Factory:
    return Factory(app)


@pytest.fixture
def odk() -> Path:
    return SHARED / "odk"
