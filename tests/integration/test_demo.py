"""`flask demo generate`: the synthetic panel stored in-process (--load), over real HTTP (--submit) and as files.

Every interview must come out `mapped`, and what the server derives (net income x the round's deflator) must be
the generator's real net income, so that the generator's true effect is the effect in the database.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select

from app.db import transaction
from app.demo import GeneratedPanel, PanelParams, generate_panel
from app.models import Firm, FirmContact, FirmObservation, FirmRound, Submission, SubmissionVersion, SurveyRound, User
from app.services import demo, rounds
from app.vocab import ParticipantStatus, ProcessingStatus, RoundKind
from tests.conftest import ROOT
from tests.helpers import Factory, prepare_survey, submit


@pytest.fixture
def prepared(app: Flask, factory: Factory) -> Flask:
    """What `make run` prepares: the catalogue, the baseline round R0 (without dates) and our MSE survey."""
    prepare_survey(app, factory)
    return app


def _invoke(app: Flask, *args: str) -> Result:
    result = app.test_cli_runner().invoke(args=["demo", "generate", *args])
    assert "Traceback" not in result.output
    return result


def _same_panel(app: Flask, **params: int) -> GeneratedPanel:
    """The panel the command generated, again: the generator is pure and seeded."""
    with app.app_context(), transaction() as session:
        chains, reasons = demo.catalogue(session)
        round_specs, created = demo.ensure_rounds(session, params.pop("rounds"), create=False)
        form = demo.form_spec(session, "mse_survey")
    assert created == []
    return generate_panel(chains, reasons, round_specs, form, PanelParams(**params))


def _statuses(app: Flask) -> Counter[str]:
    with app.app_context(), transaction() as session:
        rows = session.execute(
            select(Submission.processing_status, func.count()).group_by(Submission.processing_status)
        ).all()
    return Counter({(status.value if status else "none"): n for status, n in rows})


def test_load_maps_every_interview_and_the_server_derives_the_designed_money(prepared: Flask) -> None:
    result = _invoke(prepared, "--chains", "2", "--firms", "40", "--rounds", "3", "--seed", "7", "--load")
    assert result.exit_code == 0, result.output
    panel = _same_panel(prepared, chains=2, firms=40, rounds=3, seed=7)
    interviews = panel.all_interviews()
    assert _statuses(prepared) == {"mapped": len(interviews)}
    assert f"Processing: {len(interviews)} mapped." in result.output
    assert "Created rounds R1, R2." in result.output
    for chain in panel.chains:
        assert f"{chain.true_did_net_income:,.2f}" in result.output

    with prepared.app_context(), transaction() as session:
        survey_rounds = {r.code: r for r in session.scalars(select(SurveyRound))}
        assert [survey_rounds[c].deflator_to_base for c in ("R0", "R1", "R2")] == [1, Decimal("0.95"), Decimal("0.9")]
        assert survey_rounds["R2"].reference_period_start is not None
        assert survey_rounds["R2"].kind is RoundKind.ENDLINE
        assert session.scalar(select(func.count(Firm.id))) == len(panel.firms)
        derived = {
            (name, code): (float((observation.net_income or 0) * deflator), status)
            for name, code, deflator, observation, status in session.execute(
                select(
                    FirmContact.firm_name,
                    SurveyRound.code,
                    SurveyRound.deflator_to_base,
                    FirmObservation,
                    FirmRound.participant_status,
                )
                .join(Firm, Firm.id == FirmContact.firm_id)
                .join(FirmObservation, FirmObservation.firm_id == Firm.id)
                .join(SurveyRound, SurveyRound.id == FirmObservation.round_id)
                .join(
                    FirmRound,
                    (FirmRound.firm_id == Firm.id) & (FirmRound.round_id == SurveyRound.id),
                )
            )
        }
        devices = set(session.scalars(select(SubmissionVersion.device_id)))
        filed_by = Counter(session.scalars(select(User.username).join(Submission, Submission.submitter_id == User.id)))
    assert devices == {demo.DEVICE_ID}
    # Each interview is filed under the enumerator it names, as the team's phones would file it.
    assert filed_by == Counter(interview.enumerator for interview in interviews)
    assert len(filed_by) > 2
    assert len(derived) == len(interviews)
    for interview in interviews:
        real, status = derived[(interview.firm.name, interview.round.code)]
        assert real == pytest.approx(interview.net_income_real, abs=0.01)
        expected = ParticipantStatus.PARTICIPANT if interview.firm.participant else ParticipantStatus.COMPARISON
        assert status is expected


def test_a_second_demo_panel_is_refused_or_skipped(prepared: Flask) -> None:
    assert _invoke(prepared, "--chains", "1", "--firms", "10", "--rounds", "2", "--load").exit_code == 0
    again = _invoke(prepared, "--chains", "1", "--firms", "10", "--rounds", "2", "--seed", "2", "--load")
    assert again.exit_code == 1
    assert "already holds a demo panel" in again.output
    skipped = _invoke(prepared, "--chains", "1", "--firms", "10", "--load", "--if-missing", "--one-user")
    assert skipped.exit_code == 0 and "Skipped." in skipped.output
    assert _statuses(prepared).total() == len(_same_panel(prepared, chains=1, firms=10, rounds=2).all_interviews())


def test_load_refuses_a_database_with_real_interviews(prepared: Flask, factory: Factory) -> None:
    user = factory.user("amina")
    xml = (ROOT / "tests" / "data" / "instances" / "mse_baseline_new_firm.xml").read_bytes()
    assert submit(prepared.test_client(), user.prefix, xml).status_code == 201
    refused = _invoke(prepared, "--chains", "1", "--firms", "10", "--load")
    assert refused.exit_code == 1
    assert "1 firms from real interviews" in refused.output
    assert _statuses(prepared) == {"mapped": 1}


def test_out_alone_writes_instances_a_fresh_server_maps(prepared: Flask, factory: Factory, tmp_path: Path) -> None:
    result = _invoke(prepared, "--chains", "2", "--firms", "10", "--rounds", "2", "--seed", "3", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    with prepared.app_context(), transaction(write=True) as session:
        assert [r.code for r in rounds.list_rounds(session)] == ["R0"]  # --out alone creates nothing
        rounds.create_round(session, "R1", 1, RoundKind.ENDLINE)
    panel = _same_panel(prepared, chains=2, firms=10, rounds=2, seed=3)
    user = factory.user("amina")
    client = prepared.test_client()
    files = {code: sorted((tmp_path / code).glob("*.xml")) for code in ("R0", "R1")}
    assert [len(files["R0"]), len(files["R1"])] == [len(panel.interviews[0]), len(panel.interviews[1])]
    for path in [*files["R0"], *files["R1"]]:  # as the help says: the baseline first, in file-name order
        assert submit(client, user.prefix, path.read_bytes()).status_code == 201
    assert _statuses(prepared) == {"mapped": len(panel.all_interviews())}
    with prepared.app_context(), transaction() as session:
        firm_of = dict(
            session.execute(
                select(Submission.instance_id, FirmContact.firm_name).join(
                    FirmContact, FirmContact.firm_id == Submission.firm_id
                )
            ).all()
        )
    assert {i.instance_id: i.firm.name for i in panel.all_interviews()} == firm_of  # follow-ups found their firm


def test_submit_over_http_to_a_real_server(
    prepared: Flask, server: str, factory: Factory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    user = factory.user("kofi")
    monkeypatch.setenv("DEMO_PASSWORD", user.password)
    args = ["--chains", "2", "--firms", "10", "--rounds", "2", "--seed", "5", "--clients", "3"]
    result = _invoke(
        prepared, *args, "--submit", server, "--user", "kofi", "--password-env", "DEMO_PASSWORD", "--out", str(tmp_path)
    )
    assert result.exit_code == 0, result.output
    panel = _same_panel(prepared, chains=2, firms=10, rounds=2, seed=5)
    assert _statuses(prepared) == {ProcessingStatus.MAPPED.value: len(panel.all_interviews())}
    assert f"Processing: {len(panel.all_interviews())} mapped." in result.output
    assert len(list(tmp_path.glob("R1/*.xml"))) == len(panel.interviews[1])

    again = _invoke(prepared, *args, "--submit", f"{server}{user.prefix}")  # the app-user URL, no password
    assert again.exit_code == 1
    assert "roster already lists this panel's firms" in again.output
    wrong = _invoke(prepared, *args, "--submit", server, "--user", "kofi", "--password-env", "NO_SUCH_VARIABLE")
    assert wrong.exit_code == 1 and "NO_SUCH_VARIABLE is not set" in wrong.output
