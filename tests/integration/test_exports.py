"""Exports through the dashboard routes (Flask test client): contents against the database, roles, formula safety.

A small demo panel is stored through the real pipeline; expectations are read from the database independently of
the export code.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.dashboard.access import session_stamp
from app.db import transaction
from app.models import (
    Firm,
    FirmContact,
    FirmObservation,
    Role,
    Submission,
    SurveyRound,
    UpgradingDecision,
    UpgradingPractice,
    User,
    ValueChain,
)
from app.models.submission import ReviewState
from app.services import exports
from app.services import review as reviews
from app.services.exports import writers
from tests.conftest import ROOT
from tests.helpers import PASSWORD, Factory, prepare_survey

PERSONAL = {"firm_name", "owner_name", "phone", "gps_lat", "gps_lon", "gps_accuracy"}
TABLES = ("firms", "observations", "decisions")


@pytest.fixture
def panel(app: Flask, factory: Factory) -> Flask:
    """The catalogue, our MSE survey and a demo panel of 2 chains x 10 firms x 2 rounds, stored by the pipeline."""
    prepare_survey(app, factory)
    cli = app.test_cli_runner()
    result = cli.invoke(args=["demo", "generate", "--chains", "2", "--firms", "10", "--rounds", "2", "--load"])
    assert result.exit_code == 0, result.output
    return app


def signed_in(app: Flask, factory: Factory, role: Role) -> FlaskClient:
    made = factory.user(f"{role.value}_x", role)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    assert token is not None
    answer = client.post("/login", data={"username": made.username, "password": PASSWORD, "csrf_token": token[1]})
    assert answer.status_code in (302, 403), answer.get_data(as_text=True)
    return client


def read_csv(client: FlaskClient, url: str) -> list[dict[str, str]]:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv" and response.mimetype_params.get("charset") == "utf-8"
    assert re.fullmatch(
        r'attachment; filename="chainlift-[a-z-]+-\d{4}-\d\d-\d\d\.csv"', response.headers["Content-Disposition"]
    )
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def read_xlsx(client: FlaskClient, url: str) -> list[dict[str, Any]]:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data()), read_only=True).worksheets[0]
    header, *body = list(sheet.iter_rows(values_only=True))
    return [dict(zip(header, row, strict=True)) for row in body]


def test_manager_tables_hold_every_accepted_row_and_no_personal_data(panel: Flask, factory: Factory) -> None:
    client = signed_in(panel, factory, Role.MANAGER)
    with panel.app_context(), transaction() as session:
        counts = {
            "firms": session.scalar(select(func.count(Firm.id)).where(Firm.is_active.is_(True))),
            "observations": session.scalar(select(func.count(FirmObservation.id))),
            "decisions": session.scalar(select(func.count(UpgradingDecision.id))),
        }
        net = {
            (code, rnd): o.net_income
            for code, rnd, o in session.execute(
                select(Firm.panel_code, SurveyRound.code, FirmObservation)
                .join(Firm, Firm.id == FirmObservation.firm_id)
                .join(SurveyRound, SurveyRound.id == FirmObservation.round_id)
            )
        }
        decisions = {
            (code, rnd, practice, d.status.value)
            for code, rnd, practice, d in session.execute(
                select(Firm.panel_code, SurveyRound.code, UpgradingPractice.code, UpgradingDecision)
                .join(Firm, Firm.id == UpgradingDecision.firm_id)
                .join(SurveyRound, SurveyRound.id == UpgradingDecision.round_id)
                .join(UpgradingPractice, UpgradingPractice.id == UpgradingDecision.practice_id)
            )
        }
    assert all(counts.values()) and None not in net.values()
    for table in TABLES:
        rows_csv = read_csv(client, f"/dashboard/exports/{table}.csv")
        rows_xlsx = read_xlsx(client, f"/dashboard/exports/{table}.xlsx")
        assert len(rows_csv) == len(rows_xlsx) == counts[table]
        assert list(rows_csv[0]) == list(rows_xlsx[0]) == [c.name for c in exports.columns(table)]
        assert not PERSONAL & set(rows_csv[0])
    observations = read_csv(client, "/dashboard/exports/observations.csv")
    assert {(r["panel_code"], r["round"]): Decimal(r["net_income"]) for r in observations} == net
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d.*\+00:00", r["interview_start"]) for r in observations)
    xlsx_obs = read_xlsx(client, "/dashboard/exports/observations.xlsx")
    assert {(r["panel_code"], r["round"]): r["net_income"] for r in xlsx_obs} == pytest.approx(
        {k: float(v) for k, v in net.items() if v is not None}
    )
    assert all(isinstance(r["net_income"], float | int) for r in xlsx_obs)
    got = {
        (r["panel_code"], r["round"], r["practice"], r["status"])
        for r in read_csv(client, "/dashboard/exports/decisions.csv")
    }
    assert got == decisions


def test_filters_narrow_the_rows(panel: Flask, factory: Factory) -> None:
    client = signed_in(panel, factory, Role.MANAGER)
    with panel.app_context(), transaction() as session:
        chain = session.scalars(select(ValueChain.code).join(Firm, Firm.value_chain_id == ValueChain.id)).first()
        expected = session.scalar(
            select(func.count(UpgradingDecision.id))
            .join(Firm, Firm.id == UpgradingDecision.firm_id)
            .join(ValueChain, ValueChain.id == Firm.value_chain_id)
            .join(SurveyRound, SurveyRound.id == UpgradingDecision.round_id)
            .where(ValueChain.code == chain, SurveyRound.code == "R1")
        )
    rows = read_csv(client, f"/dashboard/exports/decisions.csv?chain={chain}&round=R1")
    assert expected and len(rows) == expected
    assert {(r["chain"], r["round"]) for r in rows} == {(chain, "R1")}
    page = client.get(f"/dashboard/exports/?chain={chain}&round=R1").get_data(as_text=True)
    assert f"{expected:,}" in page


def test_only_admins_get_personal_data(panel: Flask, factory: Factory) -> None:
    manager = signed_in(panel, factory, Role.MANAGER)
    for url in ("/dashboard/exports/firms.csv?personal=1", "/dashboard/exports/observations.xlsx?personal=1"):
        refused = manager.get(url)
        assert refused.status_code == 403 and "administrators" in refused.get_data(as_text=True)
    assert "personal=1" not in manager.get("/dashboard/exports/").get_data(as_text=True)

    admin = signed_in(panel, factory, Role.ADMIN)
    assert "personal=1" in admin.get("/dashboard/exports/").get_data(as_text=True)
    with panel.app_context(), transaction() as session:
        contacts = {
            code: (c.firm_name, c.owner_name, c.phone, c.gps_lat)
            for code, c in session.execute(select(Firm.panel_code, FirmContact).join(FirmContact))
        }
    firms = read_csv(admin, "/dashboard/exports/firms.csv?personal=1")
    assert set(firms[0]) >= PERSONAL
    for row in firms:
        name, owner, phone, lat = contacts[row["panel_code"]]
        assert (row["firm_name"], row["owner_name"]) == (name or "", owner or "")
        assert row["phone"] == (exports.neutralise(phone) if phone else "")
        assert (float(row["gps_lat"]) if row["gps_lat"] else None) == lat
    sheet = read_xlsx(admin, "/dashboard/exports/observations.xlsx?personal=1")
    assert {r["owner_name"] for r in sheet} <= {c[1] for c in contacts.values()}
    with admin.get("/dashboard/exports/firms.csv?personal=1") as response:
        assert "with-personal-data" in response.headers["Content-Disposition"]


def test_formula_like_text_is_neutralised_and_numbers_stay_numbers(panel: Flask, factory: Factory) -> None:
    with panel.app_context(), transaction(write=True) as session:
        firm = session.scalars(select(Firm).order_by(Firm.id)).first()
        assert firm is not None
        firm.admin1 = '=HYPERLINK("http://evil.example","click")'
        firm.admin2 = "@SUM(A1:A9)"
        observation = session.scalars(select(FirmObservation).where(FirmObservation.firm_id == firm.id)).first()
        assert observation is not None
        observation.scale_unit = "-2+3"
        observation.net_income = Decimal("-125.50")
        panel_code = firm.panel_code
    client = signed_in(panel, factory, Role.MANAGER)
    firm_row = next(r for r in read_csv(client, "/dashboard/exports/firms.csv") if r["panel_code"] == panel_code)
    assert firm_row["admin1"] == '\'=HYPERLINK("http://evil.example","click")'
    assert firm_row["admin2"] == "'@SUM(A1:A9)"
    obs_row = next(r for r in read_csv(client, "/dashboard/exports/observations.csv") if r["panel_code"] == panel_code)
    assert obs_row["scale_unit"] == "'-2+3"
    assert Decimal(obs_row["net_income"]) == Decimal("-125.50")  # a number, not neutralised text

    response = client.get("/dashboard/exports/firms.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).worksheets[0]
    header = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[header.index("panel_code")].value == panel_code)
    cell = row[header.index("admin1")]
    assert cell.data_type == "s" and cell.quotePrefix and cell.value == '=HYPERLINK("http://evil.example","click")'
    assert row[header.index("base_weight")].data_type == "n"
    response = client.get("/dashboard/exports/observations.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).worksheets[0]
    header = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[header.index("panel_code")].value == panel_code)
    assert row[header.index("net_income")].value == -125.5 and row[header.index("net_income")].data_type == "n"
    assert row[header.index("scale_unit")].quotePrefix and row[header.index("scale_unit")].data_type == "s"


def test_a_rejected_interview_leaves_the_tables(panel: Flask, factory: Factory) -> None:
    client = signed_in(panel, factory, Role.MANAGER)
    before = {t: read_csv(client, f"/dashboard/exports/{t}.csv") for t in ("observations", "decisions")}
    with panel.app_context(), transaction(write=True) as session:
        submission = session.scalars(
            select(Submission).join(FirmObservation, FirmObservation.submission_id == Submission.id)
        ).first()
        reviewer = session.scalars(select(User)).first()
        assert submission is not None and reviewer is not None
        code, round_code = session.execute(
            select(Firm.panel_code, SurveyRound.code)
            .join(FirmObservation, FirmObservation.firm_id == Firm.id)
            .join(SurveyRound, SurveyRound.id == FirmObservation.round_id)
            .where(FirmObservation.submission_id == submission.id)
        ).one()
        reviews.review(session, submission, reviewer, ReviewState.REJECTED, "made up")
    after = {t: read_csv(client, f"/dashboard/exports/{t}.csv") for t in ("observations", "decisions")}
    for table, rows in after.items():
        gone = [r for r in before[table] if (r["panel_code"], r["round"]) == (code, round_code)]
        assert gone and not [r for r in rows if (r["panel_code"], r["round"]) == (code, round_code)]
        assert len(rows) == len(before[table]) - len(gone)


def test_indicators_export_matches_the_api(panel: Flask, factory: Factory) -> None:
    result = panel.test_cli_runner().invoke(args=["indicators", "compute"])
    assert result.exit_code == 0, result.output
    client = signed_in(panel, factory, Role.MANAGER)
    with panel.app_context(), transaction() as session:
        chain = session.scalars(select(ValueChain.code).join(Firm, Firm.value_chain_id == ValueChain.id)).first()
    query = f"chain={chain}&round=R1&disaggregation=owner_gender"
    token = panel.test_client().post("/api/v1/auth/token", json={"username": "manager_x", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
    items = client.get(f"/api/v1/indicators?{query}&limit=10000", headers=headers).get_json()["items"]
    rows = read_csv(client, f"/dashboard/exports/indicators.csv?{query}")
    sheet = read_xlsx(client, f"/dashboard/exports/indicators.xlsx?{query}")
    assert items and len(rows) == len(sheet) == len(items)
    for row, cells, item in zip(rows, sheet, items, strict=True):
        assert (row["code"], row["subject"], row["group"]) == (item["code"], item["subject"], item["group"])
        assert (float(row["value"]) if row["value"] else None) == pytest.approx(item["value"])
        assert cells["ci_low"] == pytest.approx(item["ci_low"]) and cells["n"] == item["n"]
        assert row["disaggregation"] == "owner_gender" and row["suppressed"] == str(item["suppressed"]).lower()
    api_csv = client.get(f"/api/v1/indicators/export.csv?{query}", headers=headers).get_data(as_text=True)
    mine = client.get(f"/dashboard/exports/indicators.csv?{query}").get_data(as_text=True)
    assert api_csv.splitlines() == mine.splitlines()  # one writer


@pytest.mark.parametrize(
    ("url", "status", "needle"),
    [
        ("/dashboard/exports/decisions.csv?chain=NOPE", 404, "NOPE"),
        ("/dashboard/exports/observations.xlsx?round=R9", 404, "R9"),
        ("/dashboard/exports/indicators.csv?code=XYZ-99", 404, "XYZ-99"),
        ("/dashboard/exports/indicators.csv?disaggregation=shoe_size", 400, "shoe_size"),
        ("/dashboard/exports/secrets.csv", 404, "secrets"),
        ("/dashboard/exports/firms.pdf", 404, "firms.pdf"),
    ],
)
def test_bad_requests_get_a_readable_page(app: Flask, factory: Factory, url: str, status: int, needle: str) -> None:
    response = signed_in(app, factory, Role.MANAGER).get(url)
    assert response.status_code == status and response.mimetype == "text/html"
    assert needle in response.get_data(as_text=True)


def test_an_enumerator_and_a_stranger_are_refused(app: Flask, factory: Factory) -> None:
    panel = app
    stranger = panel.test_client().get("/dashboard/exports/decisions.csv")
    assert stranger.status_code == 302 and "/login" in stranger.headers["Location"]
    enumerator = signed_in(panel, factory, Role.ENUMERATOR)
    with enumerator.session_transaction() as cookie:
        assert "_user_id" not in cookie  # the login page refuses enumerators; a forged session is refused too
    with panel.app_context(), transaction() as session:
        user = session.scalars(select(User).where(User.username == "enumerator_x")).one()
        stamp = f"{user.id}:{session_stamp(user)}"
    with enumerator.session_transaction() as cookie:
        cookie["_user_id"] = stamp
    assert enumerator.get("/dashboard/exports/decisions.csv").status_code == 403


def test_long_tables_go_on_to_a_next_sheet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writers, "XLSX_MAX_ROWS", 4)
    columns = (writers.Column("n", writers.Kind.NUMBER), writers.Column("t"))
    target = io.BytesIO()
    batches = writers.batched(((i, f"r{i}") for i in range(7)), size=3)
    assert writers.write_xlsx(target, "rows", columns, batches) == 7
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["rows", "rows (2)", "rows (3)"]
    values = [row for ws in book.worksheets for row in ws.iter_rows(min_row=2, values_only=True)]
    assert values == [(i, f"r{i}") for i in range(7)]
    assert [ws["A1"].value for ws in book.worksheets] == ["n", "n", "n"]


def test_the_readme_documents_the_column_order() -> None:
    text = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    for name in exports.EXPORTS:
        assert f"`{name}`: " + ", ".join(c.name for c in exports.columns(name)) in text
    personal = exports.columns("firms", personal=True)[len(exports.columns("firms")) :]
    assert personal == exports.columns("observations", personal=True)[len(exports.columns("observations")) :]
    assert "end with: " + ", ".join(c.name for c in personal) in text
