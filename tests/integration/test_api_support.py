"""Shared set-up for the JSON API tests (test_api_*.py): users with tokens, the panel, page walking. No tests here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from app.db import transaction
from app.ingest.catalogue import read_catalogue
from app.models import Role, Submission
from app.services import rounds
from app.services.catalogue import load_catalogue
from app.vocab import RoundKind
from tests.conftest import ROOT
from tests.helpers import Factory, MadeUser
from tests.processing_helpers import MINI_FORM

PROBLEM_TYPE = "application/problem+json"


@dataclass(frozen=True)
class Caller:
    user: MadeUser
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class Staff:
    admin: Caller
    manager: Caller
    enumerator: Caller  # also submits through OpenRosa: ``enumerator.user.prefix``


def login(client: FlaskClient, user: MadeUser) -> Caller:
    response = client.post("/api/v1/auth/token", json={"username": user.username, "password": user.password})
    assert response.status_code == 201, response.get_data(as_text=True)
    return Caller(user, response.get_json()["token"])


def make_staff(client: FlaskClient, factory: Factory) -> Staff:
    return Staff(
        admin=login(client, factory.user("ada", Role.ADMIN)),
        manager=login(client, factory.user("max", Role.MANAGER)),
        enumerator=login(client, factory.user("enum1", Role.ENUMERATOR)),
    )


def load_panel(app: Flask, factory: Factory) -> None:
    """The catalogue, rounds R0 (baseline) and R1, and the small mapped form of tests/processing_helpers.py."""
    with app.app_context(), transaction(write=True) as session:
        load_catalogue(session, read_catalogue((ROOT / "forms" / "catalogue.yaml").read_text()))
        rounds.create_round(session, "R0", 0, RoundKind.BASELINE)
        rounds.create_round(session, "R1", 1, RoundKind.MIDLINE)
    factory.publish_bytes("mini.md", MINI_FORM)


def problem(response: TestResponse, status: int) -> dict[str, Any]:
    """Check the RFC 9457 shape and return the body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM_TYPE
    body: dict[str, Any] = response.get_json()
    assert body["type"] == "about:blank"
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def ok(response: TestResponse, status: int = 200) -> Any:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


def walk(client: FlaskClient, url: str, caller: Caller, key: str) -> list[list[str]]:
    """Follow next_cursor to the end; the ``key`` of each item, page by page."""
    pages: list[list[str]] = []
    cursor: str | None = None
    separator = "&" if "?" in url else "?"
    while True:
        page = ok(client.get(url + (f"{separator}cursor={cursor}" if cursor else ""), headers=caller.headers))
        pages.append([item[key] for item in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 100, "the cursor does not advance"


def submission_id(app: Flask, instance_id: str) -> int:
    with app.app_context(), transaction() as session:
        found = session.scalar(select(Submission.id).where(Submission.instance_id == instance_id))
        assert found is not None
        return found
