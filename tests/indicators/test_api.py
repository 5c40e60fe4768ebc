"""The indicator endpoints: results with CIs and freshness, filters, CSV long format, catalogue, roles."""

from __future__ import annotations

import csv
import io

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.db import transaction
from app.indicators.catalogue import CATALOGUE
from app.models import IndicatorResult, ValueChain
from app.services.indicators import refresh
from tests.helpers import Factory
from tests.indicators.loader import load_panel
from tests.indicators.panel import make_panel
from tests.integration.test_api_support import Staff, make_staff, problem


@pytest.fixture
def staff(app: Flask, client: FlaskClient, factory: Factory) -> Staff:
    load_panel(app, client, factory, make_panel(seed=11, firms=12))
    with app.app_context():
        with transaction(snapshot=True) as session:
            computed = refresh.read_pairs(session, refresh.pairs_to_compute(session))
        for result in computed:
            with transaction(write=True) as session:
                refresh.store(session, result)
    return make_staff(client, factory)


def test_results_carry_value_ci_n_and_freshness(app: Flask, client: FlaskClient, staff: Staff) -> None:
    query = "code=UPG-03&chain=TC&round=R1&disaggregation=overall&weighting=weighted"
    body = client.get(f"/api/v1/indicators?{query}", headers=staff.manager.headers).get_json()
    [item] = body["items"]
    with app.app_context(), transaction() as session:
        stored = session.scalars(
            select(IndicatorResult).where(
                IndicatorResult.code == "UPG-03",
                IndicatorResult.disaggregation == "overall",
                IndicatorResult.weighting == "weighted",
                IndicatorResult.round_id == IndicatorResult.round_id,
            )
        ).all()
    assert item["value"] in {row.value for row in stored}
    assert item["ci_low"] <= item["value"] <= item["ci_high"]
    assert item["n"] > 0 and item["n_eff"] <= item["n"] and item["suppressed"] is (item["n"] < 30)
    assert item["name"] == "Any-upgrading rate" and item["unit"] == "share"
    assert item["watermark"] > 0 and item["computed_at"] and item["data_as_of"] and item["stale"] is False


def test_filters_and_pages(client: FlaskClient, staff: Staff) -> None:
    headers = staff.manager.headers
    everything = client.get("/api/v1/indicators?chain=TC&round=R0&limit=10000", headers=headers).get_json()
    assert everything["next_cursor"] is None
    seen, cursor = [], ""
    while True:
        page = client.get(f"/api/v1/indicators?chain=TC&round=R0&limit=700&cursor={cursor}", headers=headers)
        body = page.get_json()
        seen += body["items"]
        if not body["next_cursor"]:
            break
        cursor = body["next_cursor"]
    assert seen == everything["items"]
    females = client.get("/api/v1/indicators?code=UPG-01,UPG-02&group=female", headers=headers).get_json()["items"]
    assert females and {i["code"] for i in females} == {"UPG-01", "UPG-02"}
    assert {i["disaggregation"] for i in females} == {"owner_gender"}


@pytest.mark.parametrize(
    ("query", "status", "needle"),
    [
        ("code=UPG-99", 404, "UPG-99"),
        ("chain=XX", 404, "XX"),
        ("round=R9", 404, "R9"),
        ("disaggregation=shoe_size", 422, "disaggregation"),
        ("limit=0", 422, "limit"),
    ],
)
def test_bad_filters_are_problems(client: FlaskClient, staff: Staff, query: str, status: int, needle: str) -> None:
    body = problem(client.get(f"/api/v1/indicators?{query}", headers=staff.manager.headers), status)
    assert needle in str(body)


def test_csv_export_is_the_same_long_format(client: FlaskClient, staff: Staff) -> None:
    headers = staff.manager.headers
    json_items = client.get("/api/v1/indicators?round=R1&limit=10000", headers=headers).get_json()["items"]
    response = client.get("/api/v1/indicators/export.csv?round=R1", headers=headers)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == len(json_items)
    for row, item in zip(rows, json_items, strict=True):
        assert row["code"] == item["code"] and row["subject"] == item["subject"] and row["group"] == item["group"]
        assert (float(row["value"]) if row["value"] else None) == pytest.approx(item["value"])


def test_catalogue_lists_every_indicator(client: FlaskClient, staff: Staff) -> None:
    body = client.get("/api/v1/indicators/catalogue", headers=staff.manager.headers).get_json()
    assert [i["code"] for i in body["indicators"]] == [i.code for i in CATALOGUE]
    assert len(body["indicators"]) == 21 and body["suppress_below"] == 30
    assert "owner_gender" in body["disaggregations"]


def test_status_names_every_pair(app: Flask, client: FlaskClient, staff: Staff) -> None:
    pairs = client.get("/api/v1/indicators/status", headers=staff.admin.headers).get_json()["pairs"]
    assert {(p["chain"], p["round"]) for p in pairs} == {("TC", "R0"), ("TC", "R1")}
    assert all(p["firms"] > 0 and not p["stale"] and p["last_error"] is None for p in pairs)
    with app.app_context(), transaction() as session:
        assert session.scalar(select(ValueChain.code).where(ValueChain.code == "TC")) == "TC"


@pytest.mark.parametrize("path", ["/api/v1/indicators", "/api/v1/indicators/export.csv", "/api/v1/jobs"])
def test_enumerators_and_strangers_are_refused(client: FlaskClient, staff: Staff, path: str) -> None:
    problem(client.get(path, headers=staff.enumerator.headers), 403)
    problem(client.get(path), 401)
