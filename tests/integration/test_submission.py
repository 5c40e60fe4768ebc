"""Form Submission API (../shared/docs/openrosa.md §5-§7), with the real instances from ODK Central's tests."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest
from defusedxml import ElementTree
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app import create_app
from app.config import Settings
from app.db import engine_of, transaction
from app.models import Attachment, FormState, ReviewState, Submission, SubmissionVersion
from app.services import forms
from app.services.blobs import BlobStore
from tests.helpers import Factory, MadeUser, submit


@pytest.fixture
def enumerator(factory: Factory) -> MadeUser:
    return factory.user()


def _versions(app: Flask) -> list[SubmissionVersion]:
    with app.app_context(), transaction() as session:
        return list(session.scalars(select(SubmissionVersion).order_by(SubmissionVersion.id)))


def _attachments(app: Flask, instance_id: str) -> dict[str, Attachment]:
    with app.app_context(), transaction() as session:
        rows = session.scalars(
            select(Attachment).join(SubmissionVersion).where(SubmissionVersion.instance_id == instance_id)
        )
        return {a.name: a for a in rows}


def test_head_submission_is_204_with_openrosa_headers(client: FlaskClient, enumerator: MadeUser) -> None:
    response = client.head(f"{enumerator.prefix}/submission?deviceID=collect%3A1")
    assert response.status_code == 204
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    assert int(response.headers["X-OpenRosa-Accept-Content-Length"]) == client.application.config["MAX_CONTENT_LENGTH"]
    assert response.data == b""


def test_new_submission_is_stored_byte_for_byte(
    client: FlaskClient, factory: Factory, enumerator: MadeUser, odk: Path
) -> None:
    factory.publish(odk / "forms/simple.xml")
    xml = (odk / "instances/simple/one.xml").read_bytes()
    response = submit(client, enumerator.prefix, xml, query_string={"deviceID": "collect:abc"})
    assert response.status_code == 201, response.data
    assert b"<OpenRosaResponse" in response.data
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    [stored] = _versions(client.application)
    assert stored.xml == xml
    assert stored.instance_id == "one"
    assert stored.device_id == "collect:abc"
    assert stored.xml_sha256 == hashlib.sha256(xml).hexdigest()


def test_identical_resubmission_is_accepted_once_and_conflicts_are_refused(
    client: FlaskClient, factory: Factory, enumerator: MadeUser, odk: Path
) -> None:
    factory.publish(odk / "forms/simple.xml")
    xml = (odk / "instances/simple/one.xml").read_bytes()
    assert submit(client, enumerator.prefix, xml).status_code == 201
    again = submit(client, enumerator.prefix, xml)
    assert again.status_code == 202  # accepted: the phone must not retry, nothing new was stored
    conflicting = submit(client, enumerator.prefix, (odk / "edits/simple-one-conflicting-content.xml").read_bytes())
    assert conflicting.status_code == 409
    assert b"different XML" in conflicting.data
    assert len(_versions(client.application)) == 1


def test_attachments_arrive_over_several_posts_and_are_merged(
    client: FlaskClient, factory: Factory, enumerator: MadeUser, odk: Path
) -> None:
    factory.publish(odk / "forms/binaryType.xml")
    xml = (odk / "instances/binaryType/both.xml").read_bytes()
    mp4 = (odk / "attachments/my_file1.mp4").read_bytes()
    jpg = (odk / "attachments/here_is_file2.jpg").read_bytes()

    first = submit(
        client, enumerator.prefix, xml, {"my_file1.mp4": mp4, "stray.txt": b"x"}, extra={"*isIncomplete*": "yes"}
    )
    assert first.status_code == 201
    slots = _attachments(client.application, "both")
    assert set(slots) == {"my_file1.mp4", "here_is_file2.jpg"}  # the stray part is not kept
    assert slots["here_is_file2.jpg"].sha256 is None

    second = submit(client, enumerator.prefix, xml, {"here_is_file2.jpg": jpg})
    assert second.status_code == 201
    slots = _attachments(client.application, "both")
    store: BlobStore = client.application.extensions["blobs"]
    for name, content in (("my_file1.mp4", mp4), ("here_is_file2.jpg", jpg)):
        digest = slots[name].sha256
        assert digest == hashlib.sha256(content).hexdigest()
        assert store.path(digest).read_bytes() == content
    assert submit(client, enumerator.prefix, xml, {"here_is_file2.jpg": jpg}).status_code == 202
    assert len(_versions(client.application)) == 1


def test_edits_become_versions_and_stale_edits_are_refused(
    client: FlaskClient, factory: Factory, enumerator: MadeUser, odk: Path
) -> None:
    factory.publish(odk / "forms/simple.xml")
    assert submit(client, enumerator.prefix, (odk / "instances/simple/one.xml").read_bytes()).status_code == 201
    edit = submit(client, enumerator.prefix, (odk / "edits/simple-one-to-two.xml").read_bytes())
    assert edit.status_code == 201, edit.data
    with client.application.app_context(), transaction() as session:
        [submission] = session.scalars(select(Submission)).all()
        assert submission.instance_id == "one"
        assert submission.review_state is ReviewState.EDITED
        assert submission.current_version is not None
        assert submission.current_version.instance_id == "two"
    stale = submit(client, enumerator.prefix, (odk / "edits/simple-one-to-three-stale.xml").read_bytes())
    assert stale.status_code == 409
    assert b"out of date" in stale.data
    unknown = submit(client, enumerator.prefix, (odk / "edits/simple-unknown-to-two.xml").read_bytes())
    assert unknown.status_code in {404, 409}  # 'two' exists already: same instanceID, different XML
    duplicate = submit(client, enumerator.prefix, (odk / "edits/simple-two-to-one-duplicate.xml").read_bytes())
    assert duplicate.status_code == 409
    assert [v.instance_id for v in _versions(client.application)] == ["one", "two"]


def test_edit_of_unknown_submission_is_404(
    client: FlaskClient, factory: Factory, enumerator: MadeUser, odk: Path
) -> None:
    factory.publish(odk / "forms/simple.xml")
    response = submit(client, enumerator.prefix, (odk / "edits/simple-unknown-to-two.xml").read_bytes())
    assert response.status_code == 404
    assert b"can't find that submission" in response.data
    assert _versions(client.application) == []


def test_edit_carries_attachments_forward(
    client: FlaskClient, factory: Factory, enumerator: MadeUser, odk: Path
) -> None:
    factory.publish(odk / "forms/binaryType.xml")
    both = (odk / "instances/binaryType/both.xml").read_bytes()
    mp4 = (odk / "attachments/my_file1.mp4").read_bytes()
    assert submit(client, enumerator.prefix, both, {"my_file1.mp4": mp4}).status_code == 201
    edited = submit(client, enumerator.prefix, (odk / "edits/binaryType-both-to-both2.xml").read_bytes())
    assert edited.status_code == 201
    slots = _attachments(client.application, "both2")
    assert slots["my_file1.mp4"].sha256 == hashlib.sha256(mp4).hexdigest()


def test_encrypted_envelope_and_parts_are_stored_as_received(
    client: FlaskClient, factory: Factory, enumerator: MadeUser, odk: Path
) -> None:
    factory.publish(odk / "forms/encrypted.xml")
    envelope = (odk / "encrypted-collect/envelope.xml").read_bytes()
    payload = (odk / "encrypted-collect/submission.xml.enc").read_bytes()
    response = submit(
        client, enumerator.prefix, envelope, {"submission.xml.enc": payload, "1561432532482.jpg.enc": b"j"}
    )
    assert response.status_code == 201, response.data
    [version] = _versions(client.application)
    assert version.encrypted and version.xml == envelope
    assert version.encrypted_xml_name == "submission.xml.enc"
    assert version.encrypted_key and version.encrypted_signature
    slots = _attachments(client.application, version.instance_id)
    assert slots["1561432532482.jpg.enc"].encrypted_index == 0
    assert slots["submission.xml.enc"].encrypted_index == 1
    assert slots["submission.xml.enc"].sha256 == hashlib.sha256(payload).hexdigest()


def test_old_form_versions_still_accept_submissions(
    client: FlaskClient, factory: Factory, enumerator: MadeUser, odk: Path
) -> None:
    original = (odk / "forms/simple2.xml").read_bytes()
    factory.publish_bytes("simple2.xml", original)
    factory.publish_bytes("simple2.xml", original.replace(b'version="2.1"', b'version="2.2"'))
    response = submit(client, enumerator.prefix, (odk / "instances/simple2/one.xml").read_bytes())
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("xml", "status", "needle"),
    [
        (b"<data id='simple'><meta><instanceID>x</instanceID></meta>", 400, b"not well-formed"),
        (b"<data><meta><instanceID>x</instanceID></meta></data>", 400, b"form id"),
        (b"<data id='simple'><meta><instanceName>n</instanceName></meta></data>", 400, b"instanceID"),
        (b"<data id='nosuchform'><meta><instanceID>x</instanceID></meta></data>", 404, b"no form with id"),
        (b"<data id='simple' version='9'><meta><instanceID>x</instanceID></meta></data>", 404, b"form version"),
        (
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            b"<data id='simple'><meta><instanceID>x</instanceID></meta><name>&e;</name></data>",
            400,
            b"DTD",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
            b"<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]><data id='simple'><meta><instanceID>x</instanceID>"
            b"</meta><name>&c;</name></data>",
            400,
            b"DTD",
        ),
        (b"<data id='simple'>" + b"<g>" * 200 + b"</g>" * 200 + b"</data>", 400, b"nested deeper"),
    ],
    ids=[
        "malformed",
        "no-form-id",
        "no-instance-id",
        "unknown-form",
        "unknown-version",
        "xxe",
        "billion-laughs",
        "deep",
    ],
)
def test_bad_submissions_get_a_clear_openrosa_error_and_leave_nothing(  # noqa: PLR0917 - parametrised
    client: FlaskClient, factory: Factory, enumerator: MadeUser, odk: Path, xml: bytes, status: int, needle: bytes
) -> None:
    factory.publish(odk / "forms/simple.xml")
    response = submit(client, enumerator.prefix, xml)
    assert response.status_code == status, response.data
    assert b'<message nature="error">' in response.data
    assert needle in response.data
    assert _versions(client.application) == []


def test_closed_form_refuses_submissions(
    client: FlaskClient, factory: Factory, enumerator: MadeUser, odk: Path
) -> None:
    factory.publish(odk / "forms/simple.xml")
    with client.application.app_context(), transaction(write=True) as session:
        forms.set_state(session, "simple", FormState.CLOSED)
    response = submit(client, enumerator.prefix, (odk / "instances/simple/one.xml").read_bytes())
    assert response.status_code == 409
    assert b"closed" in response.data


def test_missing_xml_part_and_wrong_content_type(client: FlaskClient, enumerator: MadeUser) -> None:
    response = client.post(f"{enumerator.prefix}/submission", data={"other": "x"}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert b"xml_submission_file missing" in response.data
    raw = client.post(f"{enumerator.prefix}/submission", data=b"<data/>", content_type="text/xml")
    assert raw.status_code == 400
    assert b"<OpenRosaResponse" in raw.data


def test_oversized_body_is_refused_before_it_is_read(
    client: FlaskClient, factory: Factory, enumerator: MadeUser, odk: Path
) -> None:
    factory.publish(odk / "forms/binaryType.xml")
    client.application.config["MAX_CONTENT_LENGTH"] = 10_000
    xml = (odk / "instances/binaryType/both.xml").read_bytes()
    response = submit(client, enumerator.prefix, xml, {"my_file1.mp4": b"x" * 20_000})
    assert response.status_code == 413
    assert b"larger than this server accepts" in response.data
    assert _versions(client.application) == []


# Werkzeug stops parsing at the part limit and leaves the parts it had spooled to the garbage collector.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_too_many_parts_is_refused(client: FlaskClient, factory: Factory, enumerator: MadeUser, odk: Path) -> None:
    factory.publish(odk / "forms/simple.xml")
    client.application.config["MAX_FORM_PARTS"] = 20
    xml = (odk / "instances/simple/one.xml").read_bytes()
    response = submit(client, enumerator.prefix, xml, {f"f{i}.jpg": b"x" for i in range(50)})
    assert response.status_code == 413
    assert _versions(client.application) == []


def test_client_file_names_never_become_paths(
    client: FlaskClient, factory: Factory, enumerator: MadeUser, odk: Path, tmp_path: Path
) -> None:
    factory.publish(odk / "forms/binaryType.xml")
    evil = "../../../../tmp/evil.mp4"
    xml = (odk / "instances/binaryType/one.xml").read_bytes().replace(b"my_file1.mp4", evil.encode())
    response = submit(client, enumerator.prefix, xml, {evil: b"payload"})
    assert response.status_code == 201, response.data
    slots = _attachments(client.application, "bone")
    assert slots[evil].sha256 == hashlib.sha256(b"payload").hexdigest()
    store: BlobStore = client.application.extensions["blobs"]
    assert store.path(slots[evil].sha256 or "").is_relative_to(store.root)
    assert not Path("/tmp/evil.mp4").exists()


def test_same_instance_id_on_another_form_is_a_different_submission(
    client: FlaskClient, factory: Factory, enumerator: MadeUser, odk: Path
) -> None:
    factory.publish(odk / "forms/simple.xml")
    factory.publish(odk / "forms/selectMultiple.xml")
    assert submit(client, enumerator.prefix, (odk / "instances/simple/one.xml").read_bytes()).status_code == 201
    assert submit(client, enumerator.prefix, (odk / "instances/selectMultiple/one.xml").read_bytes()).status_code == 201
    with client.application.app_context(), transaction() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == 2


@pytest.mark.parametrize(
    "path",
    sorted(
        p.relative_to(Path(__file__).resolve().parents[3] / "shared/fixtures/odk/instances").as_posix()
        for p in (Path(__file__).resolve().parents[3] / "shared/fixtures/odk/instances").glob("*/*.xml")
    ),
)
def test_every_real_instance_is_accepted(
    client: FlaskClient, factory: Factory, enumerator: MadeUser, odk: Path, path: str
) -> None:
    """Central's fixtures, including the 11 that are not namespace-well-formed (undeclared orx: prefix)."""
    form_name = path.split("/", maxsplit=1)[0]
    form_file = odk / "forms" / ("clientAudits.xml" if form_name == "clientAudits" else f"{form_name}.xml")
    factory.publish(form_file)
    response = submit(client, enumerator.prefix, (odk / "instances" / path).read_bytes())
    assert response.status_code == 201, response.data


def test_client_audit_log_is_kept_and_flagged(
    client: FlaskClient, factory: Factory, enumerator: MadeUser, odk: Path
) -> None:
    factory.publish(odk / "forms/clientAudits.xml")
    audit = (odk / "attachments/audit.csv").read_bytes()
    response = submit(
        client, enumerator.prefix, (odk / "instances/clientAudits/one.xml").read_bytes(), {"audit.csv": audit}
    )
    assert response.status_code == 201
    slot = _attachments(client.application, "one")["audit.csv"]
    assert slot.client_audit
    assert slot.sha256 == hashlib.sha256(audit).hexdigest()


def test_database_outage_is_a_503_openrosa_message(settings: Settings, odk: Path) -> None:
    down = create_app(replace(settings, database_url="postgresql+psycopg://postgres@127.0.0.1:9/none"))
    try:
        response = submit(down.test_client(), "/key/" + "t" * 64, (odk / "instances/simple/one.xml").read_bytes())
    finally:
        engine_of(down).dispose()
    assert response.status_code == 503
    assert b"database is unavailable" in response.data
    assert response.headers["Retry-After"]


def test_unicode_attachment_names_match_their_parts(
    client: FlaskClient, factory: Factory, enumerator: MadeUser, odk: Path
) -> None:
    """Central's unicode fixture (decomposed accents, emoji, Arabic): part names are matched exactly."""
    factory.publish(odk / "forms/binaryType.xml")
    xml = (odk / "instances/binaryType/unicode.xml").read_bytes()
    root = ElementTree.fromstring(xml)
    first, second = root.findtext("file1") or "", root.findtext("file2") or ""
    response = submit(client, enumerator.prefix, xml, {first: b"one", second: b"two"})
    assert response.status_code == 201, response.data
    slots = _attachments(client.application, "both")
    assert slots[first].sha256 == hashlib.sha256(b"one").hexdigest()
    assert slots[second].sha256 == hashlib.sha256(b"two").hexdigest()


@pytest.mark.parametrize(
    "body",
    [
        b'--xyz\r\nContent-Disposition: form-data; name="xml_submission_file"\r\n\r\n<data/>',  # never closed
        b"garbage without any boundary",
        b"--xyz\r\nContent-Type: text/xml\r\n\r\n<data/>\r\n--xyz--\r\n",  # a part without a name
    ],
    ids=["unterminated", "no-boundary-in-body", "nameless-part"],
)
def test_malformed_multipart_is_a_400(client: FlaskClient, enumerator: MadeUser, body: bytes) -> None:
    response = client.post(
        f"{enumerator.prefix}/submission", data=body, content_type="multipart/form-data; boundary=xyz"
    )
    assert response.status_code == 400, response.data
    assert b"<OpenRosaResponse" in response.data


def test_oversized_client_metadata_never_fails_a_submission(
    client: FlaskClient, factory: Factory, enumerator: MadeUser, odk: Path
) -> None:
    factory.publish(odk / "forms/simple.xml")
    response = submit(
        client,
        enumerator.prefix,
        (odk / "instances/simple/one.xml").read_bytes(),
        query_string={"deviceID": "d" * 1000},
        headers={"User-Agent": "u" * 2000},
    )
    assert response.status_code == 201, response.data
    [stored] = _versions(client.application)
    assert stored.device_id == "d" * 255
    assert stored.user_agent is not None
    assert len(stored.user_agent) == 500


def test_overlong_attachment_name_is_a_clear_400(
    client: FlaskClient, factory: Factory, enumerator: MadeUser, odk: Path
) -> None:
    factory.publish(odk / "forms/binaryType.xml")
    long_name = "x" * 300 + ".jpg"
    xml = (odk / "instances/binaryType/one.xml").read_bytes().replace(b"my_file1.mp4", long_name.encode())
    response = submit(client, enumerator.prefix, xml, {long_name: b"data"})
    assert response.status_code == 400, response.data
    assert b"at most 255 characters" in response.data
    without_part = submit(client, enumerator.prefix, xml)
    assert without_part.status_code == 400
    assert b"longer than 255" in without_part.data
    assert _versions(client.application) == []


def test_parts_named_in_utf8_with_any_case_of_parameter_are_read(
    client: FlaskClient, factory: Factory, enumerator: MadeUser, odk: Path
) -> None:
    """Collect sends part names and file names as raw UTF-8 (RFC 7578 §4.2); header parameter names are
    case-insensitive, quoted values may escape quotes."""
    factory.publish(odk / "forms/binaryType.xml")
    name = 'фото "1".mp4'
    xml = (
        (odk / "instances/binaryType/one.xml")
        .read_bytes()
        .replace(b"my_file1.mp4", name.encode().replace(b'"', b"&quot;"))
    )
    boundary = "b-1"
    quoted = name.replace('"', '\\"')
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; NAME="xml_submission_file"; Filename="i.xml"\r\n'
            f"Content-Type: text/xml\r\n\r\n"
        ).encode()
        + xml
        + (
            f'\r\n--{boundary}\r\ncontent-disposition: form-data; name="{quoted}"; filename="{quoted}"\r\n'
            f"Content-Type: video/mp4\r\n\r\nmovie\r\n--{boundary}--\r\n"
        ).encode()
    )
    content_type = f'multipart/form-data; Boundary="{boundary}"'
    response = client.post(f"{enumerator.prefix}/submission", data=body, content_type=content_type)
    assert response.status_code == 201, response.data
    [slot] = _attachments(client.application, "bone").values()
    assert slot.name == name
    assert slot.sha256 == hashlib.sha256(b"movie").hexdigest()
    assert slot.content_type == "video/mp4"
