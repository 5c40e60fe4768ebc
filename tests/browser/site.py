"""One live site for the browser tests: its own migrated database, a demo panel, indicators, users, gunicorn.

Built once per test session (loading a panel through the real pipeline takes seconds, not milliseconds), so the
browser tests share it: a test that changes data (a review) must not change what another test reads.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import requests
from alembic import command
from flask import Flask
from sqlalchemy import make_url

from app import create_app
from app.cli.migrate import alembic_config
from app.config import Settings, load_settings
from app.db import engine_of
from app.models import Role
from tests.browser.seed import seed_fieldwork
from tests.conftest import ROOT, TestDatabase
from tests.helpers import PASSWORD, Factory, MadeUser
from tests.live import gunicorn

DEMO = ("--chains", "3", "--firms", "40", "--rounds", "3", "--seed", "11")


@dataclass
class Site:
    base_url: str
    app: Flask
    settings: Settings
    users: dict[Role, MadeUser]

    def url(self, path: str) -> str:
        return self.base_url + path

    def api_token(self, role: Role = Role.MANAGER) -> str:
        user = self.users[role]
        answer = requests.post(
            self.url("/api/v1/auth/token"), json={"username": user.username, "password": user.password}, timeout=30
        )
        answer.raise_for_status()
        token: str = answer.json()["token"]
        return token

    def api(self, path: str, role: Role = Role.MANAGER, token: str | None = None, **params: str) -> requests.Response:
        headers = {"Authorization": f"Bearer {token or self.api_token(role)}"}
        return requests.get(self.url(path), params=params, headers=headers, timeout=60)


def _database_url(database: TestDatabase, workdir: Path) -> tuple[str, str | None]:
    """A database of the site's own, migrated: a copy of the template file, or a new PostgreSQL database."""
    if not database.is_postgres:
        target = workdir / "site.sqlite3"
        shutil.copyfile(database.template, target)
        return f"sqlite:///{target}", None
    assert database.server_url is not None
    name = f"chainlift_site_{uuid.uuid4().hex[:10]}"
    admin = make_url(database.server_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(database.server_url).set(drivername="postgresql+psycopg", database=name)
    rendered = url.render_as_string(hide_password=False)
    command.upgrade(alembic_config(rendered), "head")
    return rendered, name


def _drop(database: TestDatabase, name: str | None) -> None:
    if name is None or database.server_url is None:
        return
    admin = make_url(database.server_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _cli(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def load_demo(app: Flask) -> None:
    """What `make demo` does, on a smaller panel: catalogue, baseline round, the survey form, the panel, indicators."""
    _cli(app, "catalogue", "load", str(ROOT / "forms" / "catalogue.yaml"))
    _cli(app, "rounds", "create", "R0", "--number", "0", "--kind", "baseline", "--name", "Baseline", "--if-missing")
    _cli(app, "forms", "publish", str(ROOT / "forms" / "mse_survey.xlsx"))
    _cli(app, "demo", "generate", *DEMO, "--load")
    _cli(app, "indicators", "compute")


@contextmanager
def build_site(database: TestDatabase, workdir: Path) -> Iterator[Site]:
    url, pg_name = _database_url(database, workdir)
    settings = load_settings(
        {
            "DATABASE_URL": url,
            "CHAINLIFT_INSTANCE_PATH": str(workdir / "instance"),
            "MEDIA_ROOT": str(workdir / "media"),
            "SECRET_KEY": "site-secret-" + uuid.uuid4().hex,
        }
    )
    app = create_app(settings)
    try:
        load_demo(app)
        seed_fieldwork(app)
        factory = Factory(app)
        users = {
            Role.ADMIN: factory.user("site_admin", Role.ADMIN, PASSWORD),
            Role.MANAGER: factory.user("site_manager", Role.MANAGER, PASSWORD),
            Role.ENUMERATOR: factory.user("site_enumerator", Role.ENUMERATOR, PASSWORD),
        }
        with gunicorn(settings, workers=2, threads=4) as base:
            yield Site(base, app, settings, users)
    finally:
        engine_of(app).dispose()
        _drop(database, pg_name)
