"""The services behind the admin pages: roles, reactivation, last seen, Collect set-up, pyxform problems, recompute."""

from __future__ import annotations

import base64
import json
import zlib
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select

from app.db import transaction
from app.errors import ConflictError, InvalidError, NotFoundError
from app.jobs import jobs_of
from app.models import ApiToken, IndicatorMark, Role, Submission, SurveyRound, UpgradingPractice, User, ValueChain
from app.services import tokens, users
from app.services.catalogue_view import catalogue_view, list_chains
from app.services.collect_config import collect_config
from app.services.form_problems import Problem, form_problems
from app.services.indicators.recompute import request_recompute
from tests.conftest import ROOT
from tests.helpers import PASSWORD, Factory, submit


def _user(app: Flask, name: str) -> User:
    with app.app_context(), transaction() as session:
        return users.get_user(session, name)


def test_the_last_active_admin_is_neither_demoted_nor_deactivated(app: Flask, factory: Factory) -> None:
    factory.user("root", Role.ADMIN)
    factory.user("old", Role.ADMIN)
    with app.app_context():
        with transaction(write=True) as session:
            users.deactivate(session, "old")  # another admin is active: allowed
        with pytest.raises(ConflictError, match="last active admin"), transaction(write=True) as session:
            users.set_role(session, "root", Role.MANAGER)
        with pytest.raises(ConflictError, match="last active admin"), transaction(write=True) as session:
            users.deactivate(session, "root")
        with transaction(write=True) as session:
            users.set_role(session, "root", Role.ADMIN)  # staying an admin is not a demotion
    assert _user(app, "root").active and _user(app, "root").role is Role.ADMIN


def test_a_role_change_gives_or_takes_the_app_user_token(app: Flask, factory: Factory) -> None:
    made = factory.user("amina", Role.ENUMERATOR)
    with app.app_context(), transaction(write=True) as session:
        users.set_role(session, "amina", Role.MANAGER)
    assert _user(app, "amina").token is None
    assert app.test_client().get(made.prefix + "/formList").status_code in {401, 403}
    with app.app_context(), transaction(write=True) as session:
        users.set_role(session, "amina", Role.ENUMERATOR)
    token = _user(app, "amina").token
    assert token is not None and token != made.token
    with app.app_context(), transaction(write=True) as session, pytest.raises(NotFoundError):
        users.set_role(session, "nobody", Role.MANAGER)


def test_reset_password_checks_length_and_ends_the_old_password(app: Flask, factory: Factory) -> None:
    factory.user("kofi", Role.MANAGER)
    with app.app_context():
        with pytest.raises(InvalidError, match="at least"), transaction(write=True) as session:
            users.reset_password(session, "kofi", "short")
        with transaction(write=True) as session:
            password = users.reset_password(session, "kofi")[1]
        with transaction() as session:
            assert tokens.check_login(session, "kofi", PASSWORD) is None
            assert tokens.check_login(session, "kofi", password) is not None


def test_reactivation_issues_a_new_password_and_token(app: Flask, factory: Factory) -> None:
    made = factory.user("amina", Role.ENUMERATOR)
    with app.app_context():
        with pytest.raises(ConflictError, match="already active"), transaction(write=True) as session:
            users.reactivate(session, "amina")
        with transaction(write=True) as session:
            users.deactivate(session, "amina")
        with transaction(write=True) as session:
            user, password = users.reactivate(session, "amina")
            assert user.active and user.deactivated_at is None
        with transaction() as session:
            assert tokens.check_login(session, "amina", PASSWORD) is None
            assert tokens.check_login(session, "amina", password) is not None
    token = _user(app, "amina").token
    assert token is not None and token != made.token


def test_user_rows_tell_the_last_api_use_and_the_last_submission(
    app: Flask, client: FlaskClient, factory: Factory, odk: Path
) -> None:
    enumerator = factory.user("amina", Role.ENUMERATOR)
    factory.user("kofi", Role.MANAGER)
    factory.publish(odk / "forms/simple.xml")
    assert submit(client, enumerator.prefix, (odk / "instances/simple/one.xml").read_bytes()).status_code == 201
    with app.app_context(), transaction(write=True) as session:
        issued = tokens.issue(session, users.get_user(session, "kofi"))
        tokens.touch(session, issued.record.id)
    with app.app_context(), transaction() as session:
        rows = {row.user.username: row for row in users.user_rows(session)}
        submitted = session.scalar(select(Submission.created_at).join(User).where(User.username == "amina"))
        last_use = session.scalar(select(ApiToken.last_used_at).where(ApiToken.id == issued.record.id))
    assert list(rows) == ["amina", "kofi"]
    assert last_use is not None and submitted is not None
    assert (rows["kofi"].last_api_use, rows["kofi"].last_submission) == (last_use, None)
    assert (rows["amina"].last_api_use, rows["amina"].last_submission) == (None, submitted)


def test_collect_config_encodes_the_settings_as_collect_reads_them(app: Flask, factory: Factory) -> None:
    made = factory.user("amina", Role.ENUMERATOR)
    with app.app_context(), transaction(write=True) as session:
        config = collect_config(session, "amina", "http://10.0.0.5:5000/")
    assert config.url == f"http://10.0.0.5:5000/key/{made.token}"
    decoded = json.loads(zlib.decompress(base64.b64decode(config.payload)))
    assert decoded == config.settings
    assert decoded["general"]["server_url"] == config.url
    with app.app_context(), transaction(write=True) as session:
        rotated = collect_config(session, "amina", "http://10.0.0.5:5000", rotate=True)
    assert made.token is not None and made.token not in rotated.url
    with app.app_context(), transaction(write=True) as session:
        users.deactivate(session, "amina")
    with app.app_context(), pytest.raises(InvalidError, match="deactivated"), transaction(write=True) as session:
        collect_config(session, "amina", "http://x")


def test_pyxform_problems_are_split_by_sheet_and_row() -> None:
    message = (
        "bad.xlsx: [row : 3] On the 'choices' sheet, the 'name' value is invalid. Choice names must be unique.\n"
        "[row : 5] Missing calculation.\n"
        "\n"
        "Unknown question type 'texte'."
    )
    assert form_problems(message, "bad.xlsx") == [
        Problem("choices", 3, "The 'name' value is invalid. Choice names must be unique."),
        Problem(None, 5, "Missing calculation."),
        Problem(None, None, "Unknown question type 'texte'."),
    ]
    assert str(form_problems(message, "bad.xlsx")[0]).startswith("sheet 'choices', row 3: The 'name'")
    assert form_problems("There should be a choices sheet in this xlsform.") == [
        Problem(None, None, "There should be a choices sheet in this xlsform.")
    ]


def _load_catalogue(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["catalogue", "load", str(ROOT / "forms" / "catalogue.yaml")])
    assert result.exit_code == 0, result.output


def test_the_catalogue_view_groups_each_chains_practices_by_type(app: Flask) -> None:
    _load_catalogue(app)
    with app.app_context(), transaction() as session:
        view = catalogue_view(session)
        counts = dict(
            session.execute(
                select(ValueChain.code, func.count(UpgradingPractice.id))
                .join(UpgradingPractice)
                .group_by(ValueChain.code)
            ).all()
        )
        codes = [chain.code for chain in list_chains(session)]
        for item in view.chains:
            for kind, practices in item.practices_by_type.items():
                assert all(p.upgrading_type is kind and p.value_chain_id == item.chain.id for p in practices)
    assert [item.chain.code for item in view.chains] == codes == sorted(counts)
    assert {item.chain.code: sum(map(len, item.practices_by_type.values())) for item in view.chains} == counts


def test_a_recompute_request_marks_every_round_and_queues_a_refresh(app: Flask) -> None:
    _load_catalogue(app)
    for code, number, kind in (("R0", "0", "baseline"), ("R1", "1", "midline")):
        result = app.test_cli_runner().invoke(args=["rounds", "create", code, "--number", number, "--kind", kind])
        assert result.exit_code == 0, result.output
    huey = jobs_of(app).huey
    with app.app_context():
        with transaction(write=True) as session:
            chain_id, code = next((c.id, c.code) for c in list_chains(session))
            rounds = set(session.scalars(select(SurveyRound.id)))
            session.execute(delete(IndicatorMark))
        huey.flush()
        assert huey.pending_count() == 0
        with transaction(write=True) as session:
            request_recompute(session, code)
        with transaction() as session:
            marked = session.execute(select(IndicatorMark.value_chain_id, IndicatorMark.round_id)).all()
        with pytest.raises(NotFoundError), transaction(write=True) as session:
            request_recompute(session, "NOPE")
    assert sorted(marked) == sorted((chain_id, r) for r in rounds)
    assert huey.pending_count() >= 1
