"""From submission to firm panel rows through a mapping declared in the form (docs/mapping.md)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.db import transaction
from app.errors import InvalidError
from app.ingest.catalogue import read_catalogue
from app.models import (
    DecisionReason,
    Firm,
    FirmContact,
    FirmObservation,
    FirmRound,
    Submission,
    UpgradingDecision,
)
from app.services import rounds
from app.services.catalogue import load_catalogue
from app.vocab import DecisionStatus, ProcessingStatus, RoundKind
from tests.conftest import ROOT
from tests.helpers import Factory, MadeUser, submit
from tests.processing_helpers import MINI_FORM, mini_instance


@pytest.fixture
def panel(app: Flask, factory: Factory) -> MadeUser:
    with app.app_context(), transaction(write=True) as session:
        load_catalogue(session, read_catalogue((ROOT / "forms" / "catalogue.yaml").read_text()))
        rounds.create_round(session, "R0", 0, RoundKind.BASELINE)
        rounds.create_round(session, "R1", 1, RoundKind.MIDLINE)
    factory.publish_bytes("mini.md", MINI_FORM)
    return factory.user()


def _submission(app: Flask, instance_id: str) -> Submission:
    with app.app_context(), transaction() as session:
        sub = session.scalar(select(Submission).where(Submission.instance_id == instance_id))
        assert sub is not None
        return sub


def _count(app: Flask, model: type) -> int:
    with app.app_context(), transaction() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_mapped_submission_becomes_firm_observation_and_decisions(client: FlaskClient, panel: MadeUser) -> None:
    xml = mini_instance(
        instance_id="uuid:a1",
        decisions=[
            ("KE-AVO-PROC-SPRAY", "1", "2023", "", "4", ""),
            ("KE-AVO-PROD-HASS", "4", "", "", "", "too_expensive"),
            ("KE-AVO-CHAN-EXPCT", "3", "2020", "2022", "2", "no_buyer_for_upgraded"),
        ],
    )
    assert submit(client, panel.prefix, xml).status_code == 201
    sub = _submission(client.application, "uuid:a1")
    assert sub.processing_status is ProcessingStatus.MAPPED, sub.processing_errors
    with client.application.app_context(), transaction() as session:
        firm = session.scalar(select(Firm))
        assert firm is not None
        assert firm.panel_code == "KE-AVO-00001"
        assert firm.registered_by_submission_id == sub.id
        contact = session.get(FirmContact, firm.id)
        assert contact is not None
        assert contact.firm_name == "Wanjiru's farm"
        observation = session.scalar(select(FirmObservation))
        assert observation is not None
        assert observation.owner_sex == "female"
        assert observation.sales_value == Decimal("1000.00")
        assert observation.net_income == Decimal("749.50")  # 1000 - 250.50, computed
        decisions = {d.practice_id: d for d in session.scalars(select(UpgradingDecision))}
        statuses = sorted(d.status.value for d in decisions.values())
        assert statuses == ["abandoned", "adopted", "not_adopted"]
        applied = [d for d in decisions.values() if d.applied_in_period]
        assert [d.status for d in applied] == [DecisionStatus.ADOPTED]
        assert session.scalar(select(func.count()).select_from(DecisionReason)) == 2
        firm_round = session.scalar(select(FirmRound))
        assert firm_round is not None
        assert firm_round.submission_id == sub.id
        assert firm_round.interviewed


def test_invalid_submission_is_kept_flagged_with_paths_and_has_no_rows(client: FlaskClient, panel: MadeUser) -> None:
    xml = mini_instance(
        instance_id="uuid:bad",
        decisions=[
            ("KE-AVO-PROC-SPRAY", "4", "2021", "", "", ""),  # not adopted, with a year
            ("KE-AVO-PROD-HASS", "3", "2022", "2020", "7", ""),  # abandoned before it started; benefit 7
            ("KE-AVO-CHAN-EXPCT", "1", "2030", "", "3", ""),  # after the interview
        ],
    )
    response = submit(client, panel.prefix, xml)
    assert response.status_code == 201  # the phone is told it is stored: it is
    sub = _submission(client.application, "uuid:bad")
    assert sub.processing_status is ProcessingStatus.NEEDS_REVIEW
    found = {(e["path"], e["field"]) for e in sub.processing_errors}
    assert ("dec[1]/first", "decision[0].first_year") in found
    assert ("dec[2]/last", "decision[1].last_year") in found
    assert ("dec[2]/benefit", "decision[1].benefit") in found
    assert ("dec[3]/first", "decision[2].first_year") in found
    messages = " ".join(e["message"] for e in sub.processing_errors)
    assert "not adopted" in messages and "before the first year" in messages and "after the interview" in messages
    for model in (Firm, FirmObservation, UpgradingDecision, FirmRound):
        assert _count(client.application, model) == 0


def test_unknown_codes_are_flagged_then_reprocess_fixes_and_is_idempotent(client: FlaskClient, panel: MadeUser) -> None:
    xml = mini_instance(instance_id="uuid:r2", round_code="R2")
    assert submit(client, panel.prefix, xml).status_code == 201
    sub = _submission(client.application, "uuid:r2")
    assert sub.processing_status is ProcessingStatus.NEEDS_REVIEW
    assert sub.processing_errors[0]["path"] == "round"
    runner = client.application.test_cli_runner()
    unchanged = runner.invoke(args=["submissions", "reprocess"])
    assert "1 needs_review; 0 changed" in unchanged.output  # nothing fixed yet: nothing rewritten
    with client.application.app_context(), transaction(write=True) as session:
        rounds.create_round(session, "R2", 2, RoundKind.ENDLINE)
    first = runner.invoke(args=["submissions", "reprocess", "--form", "mini"])
    assert first.exit_code == 0, first.output
    assert "1 mapped; 1 changed" in first.output
    assert _submission(client.application, "uuid:r2").processing_status is ProcessingStatus.MAPPED
    ids = _ids(client.application)
    second = runner.invoke(args=["submissions", "reprocess"])
    assert "0 changed" in second.output
    assert _ids(client.application) == ids  # no row was rewritten


def _ids(app: Flask) -> list[int]:
    with app.app_context(), transaction() as session:
        return sorted(session.scalars(select(UpgradingDecision.id))) + sorted(
            session.scalars(select(FirmObservation.id))
        )


def test_edit_replaces_rows_and_keeps_the_firm(client: FlaskClient, panel: MadeUser) -> None:
    assert submit(client, panel.prefix, mini_instance(instance_id="uuid:e1")).status_code == 201
    edited = mini_instance(
        instance_id="uuid:e2",
        deprecated_id="uuid:e1",
        sales="2000",
        decisions=[("KE-AVO-PROC-SPRAY", "2", "2025", "", "5", ""), ("KE-AVO-PROD-HASS", "4", "", "", "", "")],
    )
    assert submit(client, panel.prefix, edited).status_code == 201
    assert _count(client.application, Firm) == 1
    assert _count(client.application, FirmObservation) == 1
    assert _count(client.application, UpgradingDecision) == 2
    with client.application.app_context(), transaction() as session:
        observation = session.scalar(select(FirmObservation))
        assert observation is not None
        assert observation.sales_value == Decimal("2000.00")


def test_second_interview_of_a_firm_in_a_round_is_a_possible_duplicate(client: FlaskClient, panel: MadeUser) -> None:
    assert submit(client, panel.prefix, mini_instance(instance_id="uuid:d1")).status_code == 201
    again = mini_instance(instance_id="uuid:d2", panel="KE-AVO-00001", name="")
    assert submit(client, panel.prefix, again).status_code == 201
    sub = _submission(client.application, "uuid:d2")
    assert sub.processing_status is ProcessingStatus.DUPLICATE
    assert "already interviewed in round R0" in sub.processing_errors[0]["message"]
    follow_up = mini_instance(instance_id="uuid:d3", panel="KE-AVO-00001", round_code="R1", name="")
    assert submit(client, panel.prefix, follow_up).status_code == 201
    assert _submission(client.application, "uuid:d3").processing_status is ProcessingStatus.MAPPED
    assert _count(client.application, FirmObservation) == 2
    assert _count(client.application, Firm) == 1


def test_refusal_is_stored_without_rows(client: FlaskClient, panel: MadeUser) -> None:
    assert submit(client, panel.prefix, mini_instance(instance_id="uuid:no", consent="0")).status_code == 201
    assert _submission(client.application, "uuid:no").processing_status is ProcessingStatus.REFUSED
    assert _count(client.application, Firm) == 0


def test_forms_without_mapping_are_not_mapped(client: FlaskClient, panel: MadeUser, factory: Factory) -> None:
    from tests.conftest import SHARED

    factory.publish(SHARED / "odk/forms/simple.xml")
    assert submit(client, panel.prefix, (SHARED / "odk/instances/simple/one.xml").read_bytes()).status_code == 201
    assert _submission(client.application, "one").processing_status is ProcessingStatus.NOT_MAPPED


@pytest.mark.parametrize(
    ("replace", "needle"),
    [
        (b"| interview.round       |", b"| interview.nonsense    |"),
        (b"| decision.first_year   |", b"| observation.sales_value |"),
        (b"| decision.practice     |", b"| firm.admin1           |"),
        (b"1=adopted 2=tried", b"1adopted 2=tried"),
    ],
)
def test_bad_mappings_are_refused_at_publish(factory: Factory, replace: bytes, needle: bytes) -> None:
    with pytest.raises(InvalidError) as excinfo:
        factory.publish_bytes("mini.md", MINI_FORM.replace(replace, needle))
    assert "mapping" in excinfo.value.message


def test_rejected_submission_stays_without_rows_through_reprocess(client: FlaskClient, panel: MadeUser) -> None:
    from app.models import ReviewState, User
    from app.services import review

    assert submit(client, panel.prefix, mini_instance(instance_id="uuid:rej")).status_code == 201
    assert _count(client.application, FirmObservation) == 1
    with client.application.app_context(), transaction(write=True) as session:
        reviewer = session.scalar(select(User))
        assert reviewer is not None
        review.review(session, review.find_submission(session, "uuid:rej"), reviewer, ReviewState.REJECTED, "fake")
    assert _count(client.application, FirmObservation) == 0
    result = client.application.test_cli_runner().invoke(args=["submissions", "reprocess"])
    assert result.exit_code == 0, result.output
    assert _count(client.application, FirmObservation) == 0  # reprocessing does not bring a rejected one back
    with client.application.app_context(), transaction(write=True) as session:
        reviewer = session.scalar(select(User))
        assert reviewer is not None
        review.review(session, review.find_submission(session, "uuid:rej"), reviewer, ReviewState.APPROVED)
    assert _count(client.application, FirmObservation) == 1


def test_deactivation_revokes_api_tokens(app: Flask, factory: Factory) -> None:
    from app.models import ApiToken, Role
    from app.services import tokens, users

    factory.user("kofi", role=Role.MANAGER)
    with app.app_context(), transaction(write=True) as session:
        tokens.issue(session, users.get_user(session, "kofi"))
    with app.app_context(), transaction(write=True) as session:
        users.deactivate(session, "kofi")
    with app.app_context(), transaction() as session:
        [token] = session.scalars(select(ApiToken)).all()
        assert token.revoked_at is not None


def _roster(client: FlaskClient) -> str:
    from app.services import lists

    with client.application.app_context(), transaction() as session:
        return lists.roster(session).decode()


def test_a_set_aside_registration_leaves_the_roster_and_comes_back(client: FlaskClient, panel: MadeUser) -> None:
    from app.models import ReviewState, User
    from app.services import review

    assert submit(client, panel.prefix, mini_instance(instance_id="uuid:f1", name="Gamma")).status_code == 201
    assert "KE-AVO-00001" in _roster(client)
    with client.application.app_context(), transaction(write=True) as session:
        reviewer = session.scalar(select(User))
        assert reviewer is not None
        review.review(session, review.find_submission(session, "uuid:f1"), reviewer, ReviewState.REJECTED)
    assert "KE-AVO-00001" not in _roster(client)  # no phantom firm offered to enumerators
    with client.application.app_context(), transaction(write=True) as session:
        reviewer = session.scalar(select(User))
        assert reviewer is not None
        review.review(session, review.find_submission(session, "uuid:f1"), reviewer, ReviewState.APPROVED)
    assert "KE-AVO-00001 · Gamma" in _roster(client)  # the same code again, never a new one


def test_an_edit_can_correct_the_chain_of_the_firm_it_registered(client: FlaskClient, panel: MadeUser) -> None:
    assert submit(client, panel.prefix, mini_instance(instance_id="uuid:c1")).status_code == 201
    edited = mini_instance(
        instance_id="uuid:c2",
        deprecated_id="uuid:c1",
        chain="KE-PAS",
        decisions=[("KE-PAS-PROC-SPRAY", "1", "2024", "", "4", "")],
    )
    assert submit(client, panel.prefix, edited).status_code == 201
    sub = _submission(client.application, "uuid:c1")
    assert sub.processing_status is ProcessingStatus.MAPPED, sub.processing_errors
    with client.application.app_context(), transaction() as session:
        [firm] = session.scalars(select(Firm)).all()
        assert firm.panel_code == "KE-PAS-00001"


def test_a_firm_cannot_start_after_the_interview(client: FlaskClient, panel: MadeUser, factory: Factory) -> None:
    form = MINI_FORM.replace(
        b"|        | text              | fname    | Name     | firm.name             |                        |",
        b"|        | text              | fname    | Name     | firm.name             |                        |\n"
        b"|        | integer           | started  | Started  | firm.year_started     |                        |",
    ).replace(b"| mini    | 1       |", b"| mini    | 2       |")
    factory.publish_bytes("mini.md", form)
    xml = mini_instance(instance_id="uuid:y1").replace(b'version="1"', b'version="2"')
    xml = xml.replace(b"<fname>", b"<started>2030</started><fname>")
    assert submit(client, panel.prefix, xml).status_code == 201
    sub = _submission(client.application, "uuid:y1")
    assert sub.processing_status is ProcessingStatus.NEEDS_REVIEW
    assert sub.processing_errors[0]["field"] == "firm.year_started"
    assert "after the interview (2026)" in sub.processing_errors[0]["message"]


def test_a_concurrent_second_interview_is_a_duplicate_not_an_error(
    client: FlaskClient, panel: MadeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.services import processing

    assert submit(client, panel.prefix, mini_instance(instance_id="uuid:r1")).status_code == 201
    # The race window: the duplicate check ran before the first interview's rows were committed.
    monkeypatch.setattr(processing, "interviewed_by", lambda *_args: None)
    again = mini_instance(instance_id="uuid:r2", panel="KE-AVO-00001", name="")
    assert submit(client, panel.prefix, again).status_code == 201
    sub = _submission(client.application, "uuid:r2")
    assert sub.processing_status is ProcessingStatus.DUPLICATE
    assert "at the same moment" in sub.processing_errors[0]["message"]
    assert _count(client.application, FirmObservation) == 1
