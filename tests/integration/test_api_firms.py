"""JSON API: the firm panel (filters, cursor pages, detail) and who sees personal data; the catalogue."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from app.config import Settings
from app.db import transaction
from app.models import Firm, FirmRound, SurveyRound, UpgradingPractice
from app.schemas.api import encode_cursor
from app.vocab import ParticipantStatus
from tests.conftest import ROOT
from tests.helpers import Factory, submit
from tests.integration.test_api_support import Staff, load_panel, make_staff, ok, problem, walk
from tests.processing_helpers import mini_instance

BASELINE = ROOT / "tests" / "data" / "instances" / "mse_baseline_new_firm.xml"
# Personal data in that interview: none of it may reach a manager.
PERSONAL = ("Wanjiku Avocado Farm", "+254 700 000 101", "Grace Wanjiku", "-0.934215", "37.001132")


@pytest.fixture
def staff(client: FlaskClient, factory: Factory) -> Staff:
    load_panel(client.application, factory)
    return make_staff(client, factory)


def _set_status(app: Flask, panel_code: str, round_code: str, status: ParticipantStatus) -> None:
    with app.app_context(), transaction(write=True) as session:
        firm_id = session.scalar(select(Firm.id).where(Firm.panel_code == panel_code))
        round_id = session.scalar(select(SurveyRound.id).where(SurveyRound.code == round_code))
        session.execute(
            update(FirmRound)
            .where(FirmRound.firm_id == firm_id, FirmRound.round_id == round_id)
            .values(participant_status=status)
        )


@pytest.fixture
def seven_firms(client: FlaskClient, staff: Staff) -> list[str]:
    """Five avocado firms and two Guatemalan handicraft firms; avocado 1, 2 and 4 interviewed again in R1."""
    prefix = staff.enumerator.user.prefix
    for i in range(5):
        assert submit(client, prefix, mini_instance(instance_id=f"uuid:avo{i}", name=f"Farm {i}")).status_code == 201
    for i in range(2):
        xml = mini_instance(instance_id=f"uuid:gt{i}", chain="GT-HC", decisions=())
        assert submit(client, prefix, xml).status_code == 201
    for n in (1, 2, 4):
        xml = mini_instance(instance_id=f"uuid:avo{n}-r1", round_code="R1", panel=f"KE-AVO-0000{n}", name="")
        assert submit(client, prefix, xml).status_code == 201
    app = client.application
    _set_status(app, "KE-AVO-00001", "R1", ParticipantStatus.PARTICIPANT)
    _set_status(app, "KE-AVO-00002", "R1", ParticipantStatus.COMPARISON)
    _set_status(app, "KE-AVO-00004", "R1", ParticipantStatus.PARTICIPANT)
    _set_status(app, "KE-AVO-00003", "R0", ParticipantStatus.PARTICIPANT)
    return [f"KE-AVO-0000{i}" for i in range(1, 6)] + ["GT-HC-00001", "GT-HC-00002"]


def test_cursor_pages_walk_every_firm_once_in_a_stable_order(
    client: FlaskClient, staff: Staff, seven_firms: list[str]
) -> None:
    for limit, sizes in ((2, [2, 2, 2, 1]), (3, [3, 3, 1]), (7, [7]), (500, [7])):
        pages = walk(client, f"/api/v1/firms?limit={limit}", staff.manager, "panel_code")
        assert [len(p) for p in pages] == sizes
        assert [code for page in pages for code in page] == seven_firms  # no gap, no duplicate, id order
    assert len(ok(client.get("/api/v1/firms", headers=staff.manager.headers))["items"]) == 7  # default 50
    assert ok(client.get("/api/v1/firms?cursor=&limit=", headers=staff.manager.headers))["next_cursor"] is None


def test_a_cursor_is_opaque_and_checked(client: FlaskClient, staff: Staff, seven_firms: list[str]) -> None:
    first = ok(client.get("/api/v1/firms?limit=2", headers=staff.manager.headers))
    with client.application.app_context(), transaction() as session:
        second_id = session.scalar(select(Firm.id).where(Firm.panel_code == seven_firms[1]))
    assert second_id is not None
    assert first["next_cursor"] == encode_cursor(second_id)
    after_last = ok(client.get(f"/api/v1/firms?cursor={encode_cursor(10**9)}", headers=staff.manager.headers))
    assert after_last == {"items": [], "next_cursor": None}
    for bad in ("!!!", "LTE", "YWJj"):  # not base64url, "-1", "abc"
        body = problem(client.get(f"/api/v1/firms?cursor={bad}", headers=staff.manager.headers), 422)
        assert body["errors"] == {"cursor": ["Not a valid cursor."]}
    body = problem(client.get("/api/v1/firms?limit=501&participant_status=maybe", headers=staff.manager.headers), 422)
    assert set(body["errors"]) == {"limit", "participant_status"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("chain=KE-AVO", ["KE-AVO-00001", "KE-AVO-00002", "KE-AVO-00003", "KE-AVO-00004", "KE-AVO-00005"]),
        ("chain=GT-HC", ["GT-HC-00001", "GT-HC-00002"]),
        ("round=R1", ["KE-AVO-00001", "KE-AVO-00002", "KE-AVO-00004"]),
        ("round=R1&participant_status=participant", ["KE-AVO-00001", "KE-AVO-00004"]),
        ("round=R1&participant_status=comparison", ["KE-AVO-00002"]),
        ("round=R0&participant_status=participant", ["KE-AVO-00003"]),
        ("participant_status=participant", ["KE-AVO-00001", "KE-AVO-00003", "KE-AVO-00004"]),
        ("chain=GT-HC&round=R1", []),
        ("chain=KE-AVO&round=R1&participant_status=participant", ["KE-AVO-00001", "KE-AVO-00004"]),
    ],
)
def test_filters(client: FlaskClient, staff: Staff, seven_firms: list[str], query: str, expected: list[str]) -> None:
    pages = walk(client, f"/api/v1/firms?{query}&limit=1", staff.manager, "panel_code")
    assert [code for page in pages for code in page] == expected


def test_unknown_filter_codes_are_named(client: FlaskClient, staff: Staff) -> None:
    body = problem(client.get("/api/v1/firms?chain=XX-NONE", headers=staff.manager.headers), 422)
    assert body["errors"] == {"chain": ["There is no value chain 'XX-NONE'."]}
    body = problem(client.get("/api/v1/firms?round=R9", headers=staff.manager.headers), 422)
    assert body["errors"] == {"round": ["There is no survey round 'R9'."]}


@pytest.fixture
def surveyed(client: FlaskClient, factory: Factory, staff: Staff) -> str:
    factory.publish(ROOT / "forms" / "mse_survey.xlsx")
    assert submit(client, staff.enumerator.user.prefix, BASELINE.read_bytes()).status_code == 201
    return "KE-AVO-00001"


def test_firm_detail_has_rounds_observations_sales_and_decisions(
    client: FlaskClient, staff: Staff, surveyed: str
) -> None:
    firm = ok(client.get(f"/api/v1/firms/{surveyed}", headers=staff.manager.headers))
    assert firm["panel_code"] == surveyed and firm["chain"] == "KE-AVO"
    assert (firm["admin1"], firm["admin2"], firm["admin3"]) == ("Murang'a", "Kandara", "Ruchu")
    assert (firm["legal_status"], firm["urban_rural"], firm["year_started"], firm["group_member"]) == (
        "informal",
        "rural",
        2008,
        False,
    )
    assert firm["baseline_round"] == "R0"
    assert firm["rounds"] == [{"round": "R0", "participant_status": "participant", "interviewed": True, "weight": 1.0}]
    [observation] = firm["observations"]
    assert observation["round"] == "R0"
    assert observation["submission"] == {
        "instance_id": "uuid:3f6c2a1e-8b4d-4c7a-9e21-5d0b7f3a9c11",
        "form_id": "mse_survey",
    }
    assert observation["functions"] == ["production", "grading_packing"]
    assert observation["sales_value"] == "217500.00" and observation["net_income"] == "142000.00"
    assert observation["owner_sex"] == "female" and observation["workers_hired"] == 2
    assert observation["duration_seconds"] == 51 * 60 + 29
    assert [(s["end_market"], s["value"], s["contract"]) for s in observation["sales"]] == [
        ("farmgate_broker", "37500.00", False),
        ("exporter_contract", "180000.00", True),
    ]
    assert observation["sales"][1]["embedded_services"] == ["inputs_on_credit", "technical_assistance", "grading_info"]
    decisions = {d["practice"]: d for d in firm["decisions"]}
    assert len(decisions) == 7
    assert all(d["round"] == "R0" for d in decisions.values())
    bulk = decisions["KE-AVO-FUNC-BULK"]
    assert (bulk["upgrading_type"], bulk["status"], bulk["first_year"], bulk["last_year"]) == (
        "functional",
        "abandoned",
        2018,
        2021,
    )
    assert (bulk["perceived_benefit"], bulk["perceived_cost"], bulk["perceived_risk"]) == (2, 2, 3)
    assert bulk["investment_cost"] == "0.00" and bulk["scale_share"] == "100.00"
    assert bulk["reasons"] == [{"code": "group_failed", "is_main": True}, {"code": "premium_too_low", "is_main": False}]
    grade = decisions["KE-AVO-CHAN-GRADE2"]
    assert grade["upgrading_type"] == "channel" and grade["status"] == "not_adopted"
    assert grade["applied_in_period"] is False and grade["first_year"] is None
    assert grade["reasons"][0] == {"code": "premium_too_low", "is_main": True}
    assert {r["code"] for r in grade["reasons"][1:]} == {"lacks_labour_time", "no_buyer_for_upgraded"}
    assert decisions["KE-AVO-PROC-SPRAY"]["applied_in_period"] is True
    assert decisions["KE-AVO-PROC-SPRAY"]["financing_source"] == "buyer_credit"


def test_interview_times_are_given_in_utc(
    client: FlaskClient, staff: Staff, surveyed: str, settings: Settings, request: pytest.FixtureRequest
) -> None:
    [observation] = ok(client.get(f"/api/v1/firms/{surveyed}", headers=staff.manager.headers))["observations"]
    assert observation["interview_start"] == "2026-11-10T06:02:11.204000+00:00"  # 09:02:11.204+03:00
    assert observation["interview_end"] == "2026-11-10T06:53:40.877000+00:00"


def test_personal_data_goes_to_admins_only(client: FlaskClient, staff: Staff, surveyed: str) -> None:
    as_manager = client.get(f"/api/v1/firms/{surveyed}", headers=staff.manager.headers)
    assert "contact" not in ok(as_manager)
    listing = client.get("/api/v1/firms", headers=staff.manager.headers)
    for response in (as_manager, listing):
        text = response.get_data(as_text=True)
        assert not [value for value in PERSONAL if value in text]
    contact = ok(client.get(f"/api/v1/firms/{surveyed}", headers=staff.admin.headers))["contact"]
    assert contact["firm_name"] == "Wanjiku Avocado Farm"
    assert contact["owner_name"] == "Grace Wanjiku"
    assert contact["phone"] == "+254 700 000 101"
    assert (contact["gps_lat"], contact["gps_lon"], contact["gps_accuracy"]) == (-0.934215, 37.001132, 4.8)
    # the list never carries it, not even for admins
    assert "Wanjiku" not in client.get("/api/v1/firms", headers=staff.admin.headers).get_data(as_text=True)


def test_a_firm_without_contact_details_shows_null_to_admins(client: FlaskClient, staff: Staff) -> None:
    xml = mini_instance(instance_id="uuid:anon", name="")
    assert submit(client, staff.enumerator.user.prefix, xml).status_code == 201
    assert ok(client.get("/api/v1/firms/KE-AVO-00001", headers=staff.admin.headers))["contact"] is None


def test_catalogue(client: FlaskClient, staff: Staff) -> None:
    chains = ok(client.get("/api/v1/catalogue/chains", headers=staff.manager.headers))["items"]
    assert [c["code"] for c in chains] == sorted(c["code"] for c in chains)
    assert len(chains) == 9
    avocado = next(c for c in chains if c["code"] == "KE-AVO")
    assert avocado["currency"] == "KES" and avocado["sector"] == "agriculture"
    assert [(f["code"], f["rank"]) for f in avocado["functions"]][:3] == [
        ("input_supply", 1),
        ("production", 2),
        ("aggregation", 3),
    ]
    assert "exporter_contract" in {m["code"] for m in avocado["end_markets"]}
    practices = {p["code"]: p for p in avocado["practices"]}
    assert practices["KE-AVO-FUNC-BULK"]["type"] == "functional"
    assert practices["KE-AVO-FUNC-BULK"]["target_function"] is not None
    assert practices["KE-AVO-CHAN-EXPCT"]["type"] == "channel"
    assert practices["KE-AVO-CHAN-EXPCT"]["target_end_market"] == "exporter_contract"
    assert practices["KE-AVO-PROC-SPRAY"]["target_function"] is None
    assert practices["KE-AVO-PROC-SPRAY"]["target_end_market"] is None
    with client.application.app_context(), transaction(write=True) as session:
        session.execute(
            update(UpgradingPractice).where(UpgradingPractice.code == "KE-AVO-PROC-PRUNE").values(is_active=False)
        )
    chains = ok(client.get("/api/v1/catalogue/chains", headers=staff.manager.headers))["items"]
    avocado_now = {p["code"] for p in next(c for c in chains if c["code"] == "KE-AVO")["practices"]}
    assert avocado_now == set(practices) - {"KE-AVO-PROC-PRUNE"}  # retired practices are not offered
    reasons = ok(client.get("/api/v1/catalogue/reasons", headers=staff.manager.headers))["items"]
    assert {"code": "too_expensive", "category": "cost_finance"}.items() <= next(
        r for r in reasons if r["code"] == "too_expensive"
    ).items()
    assert len(reasons) == 18
    rounds = ok(client.get("/api/v1/catalogue/rounds", headers=staff.manager.headers))["items"]
    assert [(r["code"], r["number"], r["kind"], r["status"]) for r in rounds] == [
        ("R0", 0, "baseline", "open"),
        ("R1", 1, "midline", "open"),
    ]
    assert rounds[0]["deflator_to_base"] == "1.000000"
