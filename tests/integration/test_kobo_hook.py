"""POST /kobo/hook/<token>: KoBo's REST services, fed the real payloads of ../shared/fixtures/kobo."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app import create_app
from app.config import Settings, load_settings
from app.db import engine_of, transaction
from app.ingest.catalogue import read_catalogue
from app.ingest.instance import read_instance
from app.ingest.kobo import form_shape
from app.models import (
    DecisionReason,
    Firm,
    FirmContact,
    FirmObservation,
    FirmRound,
    FormState,
    FormVersion,
    FunctionPerformed,
    KoboAuthMode,
    KoboHook,
    KoboPayload,
    KoboRecord,
    ReviewState,
    SaleByChannel,
    Submission,
    SubmissionVersion,
    UpgradingDecision,
)
from app.services import forms, kobo, kobo_hooks, rounds
from app.services.catalogue import load_catalogue
from app.vocab import ProcessingStatus, RoundKind
from tests.conftest import ROOT
from tests.helpers import Factory, MadeUser, submit
from tests.kobo_helpers import KOBO, MOCKS, answers_of, edited, flatten_instance, kobo_record, list_keys, load_json
from tests.processing_helpers import MINI_FORM, mini_instance

TRANSPORT = KOBO / "openrosa_xml" / "transportation"
ANY_FORM = b"""
| survey |
| | type | name | label |
| | text | note | Note |
| settings |
| | form_id | version |
| | kobo_any | 1 |
"""
Hook = Callable[..., kobo_hooks.HookSecrets]


@pytest.fixture
def make_hook(app: Flask) -> Hook:
    def make(form_id: str, auth: KoboAuthMode = KoboAuthMode.TOKEN, name: str | None = None) -> kobo_hooks.HookSecrets:
        with app.app_context(), transaction(write=True) as session:
            issued = kobo_hooks.create_hook(session, name or f"h{uuid.uuid4().hex[:8]}", form_id, auth)
            session.expunge(issued.hook)
            return issued

    return make


def _post(client: FlaskClient, token: str, body: bytes, content_type: str = "application/json", **kw: Any) -> Any:
    return client.post(f"/kobo/hook/{token}", data=body, content_type=content_type, **kw)


def _one(app: Flask, model: Any, *where: Any) -> Any:
    with app.app_context(), transaction() as session:
        return session.scalars(select(model).where(*where)).all()


def _count(app: Flask, model: Any) -> int:
    with app.app_context(), transaction() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _real_payloads() -> list[tuple[str, bytes]]:
    bodies = [(p.name, p.read_bytes()) for p in sorted(MOCKS.glob("*Submission*.json"))]
    records = [
        *load_json(KOBO / "rest_payloads/hope_household_registration/kobo_submissions.json"),
        load_json(KOBO / "rest_payloads/n8n_docs_field_details/record.json"),
        *load_json(KOBO / "data_api_pages/gc_scripts_hub_arboles/data_page1.json")["results"],
        *load_json(KOBO / "data_api_pages/gc_scripts_hub_arboles/data_page2.json")["results"],
    ]
    bodies += [(f"record-{r['_id']}", json.dumps(r, ensure_ascii=False).encode()) for r in records]
    return bodies


def test_real_kobo_json_payloads_are_stored_verbatim_beside_their_instance(
    client: FlaskClient, factory: Factory, make_hook: Hook
) -> None:
    factory.publish_bytes("kobo_any.md", ANY_FORM)
    hook = make_hook("kobo_any")
    payloads = _real_payloads()
    for name, body in payloads:
        response = _post(client, hook.token, body)
        assert response.status_code == 201, (name, response.json)
        assert response.json["result"] == "created"
    app = client.application
    assert _count(app, Submission) == len(payloads)
    with app.app_context(), transaction() as session:
        for name, body in payloads:
            record = json.loads(body)
            stored = session.scalars(select(KoboPayload).where(KoboPayload.sha256 == _sha(body))).one()
            assert stored.body == body, name  # byte for byte
            version = session.get(SubmissionVersion, stored.version_id)
            assert version is not None
            assert version.instance_id == record["meta/instanceID"]
            assert flatten_instance(version.xml, list_keys(record)) == answers_of(record), name
            kobo_row = session.get(KoboRecord, stored.record_id)
            assert kobo_row is not None and kobo_row.kobo_id == record["_id"]
        hook_row = session.get(KoboHook, hook.hook.id)
        assert hook_row is not None
        assert hook_row.created_count == len(payloads) and hook_row.last_status == 201


def _sha(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def test_xml_variant_original_edit_and_duplicate(client: FlaskClient, factory: Factory, make_hook: Hook) -> None:
    """KoBo's XML payloads of the transportation fixtures: identified by meta/instanceID and deprecatedID."""
    factory.publish(TRANSPORT / "xform_with_formhub_uuid.xml")
    hook = make_hook("transportation_2011_07_25")
    original = (TRANSPORT / "instance_original.xml").read_bytes()
    edit = (TRANSPORT / "instance_edited_with_deprecatedID.xml").read_bytes()
    first = _post(client, hook.token, original, "application/xml")
    assert first.status_code == 201, first.json
    second = _post(client, hook.token, edit, "application/xml")
    assert (second.status_code, second.json["result"]) == (200, "edited")
    again = _post(client, hook.token, original, "text/xml")
    assert (again.status_code, again.json["result"]) == (200, "duplicate")
    app = client.application
    [submission] = _one(app, Submission)
    versions = _one(app, SubmissionVersion)
    assert len(versions) == 2
    assert submission.current_version_id == versions[1].id
    assert submission.review_state is ReviewState.EDITED
    assert versions[1].xml == edit  # the XML variant is its own internal representation, verbatim
    assert [p.body for p in _one(app, KoboPayload)] == [original, edit]


@pytest.fixture
def mini(app: Flask, factory: Factory) -> None:
    with app.app_context(), transaction(write=True) as session:
        load_catalogue(session, read_catalogue((ROOT / "forms" / "catalogue.yaml").read_text()))
        rounds.create_round(session, "R0", 0, RoundKind.BASELINE)
    factory.publish_bytes("mini.md", MINI_FORM)


def _mini_record(kobo_id: int, **kwargs: Any) -> dict[str, Any]:
    return kobo_record(mini_instance(**kwargs), {"dec"}, kobo_id=kobo_id)


def test_idempotent_by_kobo_id_and_an_edit_replaces(client: FlaskClient, mini: None, make_hook: Hook) -> None:
    hook = make_hook("mini")
    app = client.application
    record = _mini_record(101, sales="1000")
    body = json.dumps(record).encode()
    assert _post(client, hook.token, body).status_code == 201
    for _ in range(2):  # KoBo retries, or its stuck-PENDING sweep sends it again
        duplicate = _post(client, hook.token, body)
        assert (duplicate.status_code, duplicate.json["result"]) == (200, "duplicate")
    assert (_count(app, Submission), _count(app, SubmissionVersion), _count(app, KoboPayload)) == (1, 1, 1)
    [observation] = _one(app, FirmObservation)
    assert observation.sales_value == Decimal("1000.00")

    changed = edited(record, {"sales": "1500"})
    response = _post(client, hook.token, json.dumps(changed).encode())
    assert (response.status_code, response.json["result"]) == (200, "edited")
    [submission] = _one(app, Submission)
    assert submission.instance_id == record["meta/rootUuid"]
    assert submission.processing_status is ProcessingStatus.MAPPED
    [observation] = _one(app, FirmObservation)  # the edit replaced the rows
    assert observation.sales_value == Decimal("1500.00")
    [kobo_row] = _one(app, KoboRecord)
    assert (kobo_row.kobo_id, kobo_row.current_uuid) == (101, changed["meta/instanceID"])
    # the original arriving late (a retried delivery) changes nothing
    late = _post(client, hook.token, body)
    assert late.json["result"] == "duplicate"
    [observation] = _one(app, FirmObservation)
    assert observation.sales_value == Decimal("1500.00")


def test_an_original_after_its_edit_is_kept_as_history_only(client: FlaskClient, mini: None, make_hook: Hook) -> None:
    hook = make_hook("mini")
    record = _mini_record(7, sales="1000")
    newer = edited(record, {"sales": "2000"})
    assert _post(client, hook.token, json.dumps(newer).encode()).status_code == 201
    response = _post(client, hook.token, json.dumps(record).encode())
    assert (response.status_code, response.json["result"]) == (200, "stale")
    app = client.application
    [submission] = _one(app, Submission)
    current = _one(app, SubmissionVersion, SubmissionVersion.id == submission.current_version_id)[0]
    assert current.instance_id == newer["meta/instanceID"]
    assert _count(app, SubmissionVersion) == 2
    [observation] = _one(app, FirmObservation)
    assert observation.sales_value == Decimal("2000.00")


def test_a_submission_received_over_openrosa_is_not_stored_twice(
    client: FlaskClient, mini: None, make_hook: Hook, factory: Factory
) -> None:
    """A phone that sent to ChainLift directly while KoBo forwards the same instance: one submission."""
    user: MadeUser = factory.user()
    xml = mini_instance()
    assert submit(client, user.prefix, xml).status_code == 201
    hook = make_hook("mini")
    response = _post(client, hook.token, json.dumps(kobo_record(xml, {"dec"}, kobo_id=5)).encode())
    assert (response.status_code, response.json["result"]) == (200, "duplicate")
    assert _count(client.application, Submission) == 1
    [kobo_row] = _one(client.application, KoboRecord)
    assert kobo_row.kobo_id == 5


# -- authentication --------------------------------------------------------------------------------------------


def _basic(username: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def test_token_authentication(client: FlaskClient, mini: None, make_hook: Hook) -> None:
    hook = make_hook("mini")
    body = json.dumps(_mini_record(1)).encode()
    wrong = _post(client, hook.token[:-1] + ("A" if hook.token[-1] != "A" else "B"), body)
    assert wrong.status_code == 404
    assert wrong.mimetype == "application/problem+json"
    assert _post(client, "x", body).status_code == 404
    assert _post(client, hook.token, body).status_code == 201


def test_basic_authentication(client: FlaskClient, mini: None, make_hook: Hook) -> None:
    hook = make_hook("mini", KoboAuthMode.BASIC)
    assert hook.password is not None
    body = json.dumps(_mini_record(1)).encode()
    missing = _post(client, hook.token, body)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Basic ")
    assert _post(client, hook.token, body, headers=_basic("kobo", "wrong")).status_code == 401
    assert _post(client, hook.token, body, headers=_basic("other", hook.password)).status_code == 401
    assert _post(client, "nope", body, headers=_basic("kobo", hook.password)).status_code == 404
    assert _post(client, hook.token, body, headers=_basic("kobo", hook.password)).status_code == 201
    with client.application.app_context(), transaction() as session:
        row = session.get(KoboHook, hook.hook.id)
        assert row is not None and row.secret_hash is not None
        assert hook.password not in (row.secret_hash, row.token_hash) and hook.token not in row.token_hash


def test_custom_header_authentication(client: FlaskClient, mini: None, make_hook: Hook) -> None:
    hook = make_hook("mini", KoboAuthMode.HEADER)
    assert hook.header_value is not None
    body = json.dumps(_mini_record(1)).encode()
    assert _post(client, hook.token, body).status_code == 403
    assert _post(client, hook.token, body, headers={"X-ChainLift-Secret": "nope"}).status_code == 403
    assert _post(client, hook.token, body, headers={"X-ChainLift-Secret": hook.header_value}).status_code == 201


def test_rotated_and_disabled_hooks_refuse(client: FlaskClient, mini: None, make_hook: Hook) -> None:
    hook = make_hook("mini", name="field")
    with client.application.app_context(), transaction(write=True) as session:
        rotated = kobo_hooks.rotate(session, "field")
    body = json.dumps(_mini_record(1)).encode()
    assert _post(client, hook.token, body).status_code == 404
    with client.application.app_context(), transaction(write=True) as session:
        kobo_hooks.set_active(session, "field", active=False)
    assert _post(client, rotated.token, body).status_code == 404


# -- invalid payloads: 4xx with a reason, never 500 -----------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"", "application/json", 400),
        (b"not json", "application/json", 422),
        (b"[1, 2]", "application/json", 422),
        (b'{"fields": {"_id": 1}}', "application/json", 422),  # a payload template around the record
        (b'{"_id": 1, "q1": "no instance id"}', "application/json", 422),
        (b'{"meta/instanceID": "uuid:1", "bad key": "x"}', "application/json", 422),
        (b'{"meta/instanceID": "uuid:1", "dec": "not a list"}', "application/json", 422),
        (b'{"meta/instanceID": "uuid:1", "_id": -4}', "application/json", 422),
        (b"\xff\xfe\x00", "application/json", 422),
        (b"<data id='mini'><x>no instance id</x></data>", "application/xml", 422),
        (b"<data><unclosed>", "application/xml", 422),
        (b'<!DOCTYPE d [<!ENTITY e "x">]><data id="mini"/>', "application/xml", 422),
        (b"name=value", "application/x-www-form-urlencoded", 415),
        (b"[" * 50_000, "application/json", 422),
    ],
)
@pytest.mark.usefixtures("mini")
def test_invalid_payloads_get_a_4xx_with_a_reason(
    client: FlaskClient, make_hook: Hook, body: bytes, content_type: str, status: int
) -> None:
    hook = make_hook("mini")
    response = _post(client, hook.token, body, content_type)
    assert response.status_code == status, response.data
    assert response.mimetype == "application/problem+json"
    assert response.json["detail"]
    assert _count(client.application, Submission) == 0
    with client.application.app_context(), transaction() as session:
        row = session.get(KoboHook, hook.hook.id)
        assert row is not None
        assert (row.rejected_count, row.last_status) == (1, status)
        assert row.last_error


def test_a_closed_form_is_a_409_and_a_get_is_a_405(client: FlaskClient, mini: None, make_hook: Hook) -> None:
    hook = make_hook("mini")
    with client.application.app_context(), transaction(write=True) as session:
        forms.set_state(session, "mini", FormState.CLOSED)
    assert _post(client, hook.token, json.dumps(_mini_record(1)).encode()).status_code == 409
    wrong_method = client.get(f"/kobo/hook/{hook.token}")
    assert (wrong_method.status_code, wrong_method.mimetype) == (405, "application/problem+json")
    assert wrong_method.headers["Allow"] == "POST"


# -- storage unavailable: 503 (KoBo retries), never 500 -------------------------------------------------------


@pytest.fixture
def unreachable_database(settings: Settings, tmp_path: Path) -> Iterator[Flask]:
    dead = load_settings(
        {
            "DATABASE_URL": "postgresql://chainlift@127.0.0.1:1/nothing",  # nothing listens on port 1
            "CHAINLIFT_INSTANCE_PATH": str(tmp_path / "dead"),
            "SECRET_KEY": settings.secret_key,
        }
    )
    app = create_app(dead)
    yield app
    engine_of(app).dispose()


def test_database_unavailable_is_a_503(unreachable_database: Flask) -> None:
    response = unreachable_database.test_client().post(
        "/kobo/hook/sometoken", data=b'{"meta/instanceID": "uuid:1"}', content_type="application/json"
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    "failure", [OperationalError("INSERT", {}, Exception("disk I/O error")), RuntimeError("a bug"), OSError(28, "full")]
)
def test_a_failure_while_storing_is_a_503_and_is_counted(
    client: FlaskClient, mini: None, make_hook: Hook, monkeypatch: pytest.MonkeyPatch, failure: Exception
) -> None:
    hook = make_hook("mini")

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise failure

    monkeypatch.setattr(kobo, "store", broken)
    response = _post(client, hook.token, json.dumps(_mini_record(1)).encode())
    assert response.status_code == 503
    assert _count(client.application, Submission) == 0
    with client.application.app_context(), transaction() as session:
        row = session.get(KoboHook, hook.hook.id)
        assert row is not None and (row.failed_count, row.last_status) == (1, 503)


# -- one internal shape: the same instance as KoBo JSON and as OpenRosa XML gives the same rows -----------------


def _copy_with_form_id(xlsx: bytes, form_id: str) -> bytes:
    workbook = load_workbook(io.BytesIO(xlsx))
    settings = workbook["settings"]
    headers = [cell.value for cell in settings[1]]
    settings.cell(row=2, column=headers.index("form_id") + 1, value=form_id)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _columns(row: Any, *skip: str) -> dict[str, Any]:
    """A row's values, without its own id and the moment it was written (which differ by construction)."""
    own = {"id", "created_at", "updated_at", *skip}
    return {a.key: getattr(row, a.key) for a in inspect(row).mapper.column_attrs if a.key not in own}


def _domain_rows(session: Session, submission_id: int) -> dict[str, Any]:
    observation = session.scalars(select(FirmObservation).where(FirmObservation.submission_id == submission_id)).one()
    firm = session.get(Firm, observation.firm_id)
    contact = session.get(FirmContact, observation.firm_id)
    firm_round = session.scalars(select(FirmRound).where(FirmRound.submission_id == submission_id)).one()
    decisions = session.scalars(
        select(UpgradingDecision).where(UpgradingDecision.observation_id == observation.id)
    ).all()
    return {
        "observation": _columns(observation, "submission_id", "firm_id"),
        "firm": _columns(firm, "panel_code", "registered_by_submission_id"),
        "contact": _columns(contact, "firm_id"),
        "firm_round": _columns(firm_round, "firm_id", "submission_id"),
        "sales": sorted(
            (repr(sorted(_columns(s, "observation_id").items())) for s in observation.sales),
        ),
        "functions": sorted(
            session.scalars(
                select(FunctionPerformed.chain_function_id).where(FunctionPerformed.observation_id == observation.id)
            )
        ),
        "decisions": sorted(
            repr(
                (
                    sorted(_columns(d, "observation_id", "firm_id").items()),
                    sorted(
                        (r.reason_code_id, r.is_main)
                        for r in session.scalars(select(DecisionReason).where(DecisionReason.decision_id == d.id))
                    ),
                )
            )
            for d in decisions
        ),
    }


def test_the_same_interview_as_kobo_json_and_as_openrosa_xml_gives_identical_domain_rows(
    client: FlaskClient, factory: Factory, make_hook: Hook
) -> None:
    app = client.application
    with app.app_context(), transaction(write=True) as session:
        load_catalogue(session, read_catalogue((ROOT / "forms" / "catalogue.yaml").read_text()))
        rounds.create_round(session, "R0", 0, RoundKind.BASELINE)
    survey = (ROOT / "forms" / "mse_survey.xlsx").read_bytes()
    factory.publish_bytes("mse_survey.xlsx", survey)
    # KoBo's copy of the same XLSForm, as a programme would deploy it there (another form id on our side)
    kobo_form = factory.publish_bytes("mse_kobo.xlsx", _copy_with_form_id(survey, "mse_kobo"))
    user = factory.user()
    hook = make_hook("mse_kobo")
    xml = (ROOT / "tests" / "data" / "instances" / "mse_baseline_new_firm.xml").read_bytes()

    assert submit(client, user.prefix, xml).status_code == 201
    with app.app_context(), transaction() as session:
        version = session.get(FormVersion, kobo_form.version.id)
        assert version is not None
        repeats = form_shape(version.xml).repeats
    record = kobo_record(xml, repeats, kobo_id=4242)
    response = _post(client, hook.token, json.dumps(record).encode())
    assert response.status_code == 201, response.json

    with app.app_context(), transaction() as session:
        by_form = {
            s.form_pk: s
            for s in session.scalars(select(Submission).where(Submission.instance_id == record["meta/instanceID"]))
        }
        assert len(by_form) == 2
        xml_submission, json_submission = by_form[kobo_form.form.id - 1], by_form[kobo_form.form.id]
        assert xml_submission.processing_status is ProcessingStatus.MAPPED, xml_submission.processing_errors
        assert json_submission.processing_status is ProcessingStatus.MAPPED, json_submission.processing_errors
        from_xml, from_json = _domain_rows(session, xml_submission.id), _domain_rows(session, json_submission.id)
        assert from_json == from_xml
        assert len(from_json["decisions"]) > 5 and len(from_json["sales"]) == 2 and from_json["functions"]
        assert session.scalar(select(func.count()).select_from(SaleByChannel)) == 4
        # and the internal instance reads like the phone's
        kobo_version = session.get(SubmissionVersion, json_submission.current_version_id)
        assert kobo_version is not None
        assert read_instance(kobo_version.xml).form_id == "mse_kobo"
