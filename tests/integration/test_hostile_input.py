"""A hostile-input corpus against the real endpoints over HTTP (gunicorn): a clear 4xx, nothing stored, no 5xx.

XML: XXE, parameter entities, external DTDs, entity expansion, deep nesting, huge attributes, bad encodings.
Multipart: malformed bodies, missing boundaries, thousands of parts, oversized bodies, path traversal in names.
API: injection in query parameters. After every request the server still answers.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select

from app.config import Settings
from app.db import transaction
from app.models import Attachment, Role, SubmissionVersion
from tests.helpers import Factory, MadeUser

META = b"<meta><instanceID>uuid:hostile</instanceID></meta>"


def instance(body: bytes = b"", prolog: bytes = b"", attributes: bytes = b"") -> bytes:
    return prolog + b"<data id='simple'" + attributes + b">" + META + body + b"</data>"


def laughs(levels: int = 10) -> bytes:
    entities = b'<!ENTITY l0 "lol">' + b"".join(
        b'<!ENTITY l%d "%s">' % (i, b"".join(b"&l%d;" % (i - 1) for _ in range(10))) for i in range(1, levels)
    )
    return b"<?xml version='1.0'?><!DOCTYPE data [" + entities + b"]>"


XML_CORPUS: dict[str, tuple[bytes, set[int]]] = {
    "xxe-file": (
        instance(b"<name>&x;</name>", b"<!DOCTYPE data [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"),
        {400},
    ),
    "xxe-parameter-entity": (
        instance(prolog=b"<!DOCTYPE data [<!ENTITY % p SYSTEM 'http://127.0.0.1:9/p.dtd'> %p;]>"),
        {400},
    ),
    "external-dtd": (instance(prolog=b"<!DOCTYPE data SYSTEM 'http://127.0.0.1:9/evil.dtd'>"), {400}),
    "billion-laughs": (instance(b"<name>&l9;</name>", laughs()), {400}),
    "quadratic-blowup": (
        instance(b"<name>" + b"&a;" * 20_000 + b"</name>", b"<!DOCTYPE data [<!ENTITY a '" + b"x" * 50_000 + b"'>]>"),
        {400},
    ),
    "deep-nesting": (instance(b"<g>" * 100_000 + b"</g>" * 100_000), {400}),
    "huge-attribute": (instance(attributes=b" big='" + b"A" * (8 * 1024 * 1024) + b"'"), {201, 400, 413}),
    "many-attributes": (instance(attributes=b"".join(b" a%d='x'" % i for i in range(50_000))), {201, 400, 413}),
    "latin1-declared-utf8": (instance(b"<name>caf\xe9</name>", b"<?xml version='1.0' encoding='UTF-8'?>"), {400}),
    "nul-byte": (instance(b"<name>a\x00b</name>"), {400}),
    "unknown-encoding": (instance(prolog=b"<?xml version='1.0' encoding='x-no-such-codec'?>"), {400}),
    "not-xml": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10, {400}),
    "empty": (b"", {400}),
}


@pytest.fixture
def enumerator(factory: Factory, odk: Path) -> MadeUser:
    factory.publish(odk / "forms/simple.xml")
    factory.publish(odk / "forms/binaryType.xml")
    return factory.user("hostile_enum", Role.ENUMERATOR)


def stored_versions(app: Flask) -> int:
    with app.app_context(), transaction() as session:
        return session.scalar(select(func.count()).select_from(SubmissionVersion)) or 0


def blob_files(settings: Settings) -> list[Path]:
    return [p for p in settings.media_root.rglob("*") if p.is_file() and "tmp" not in p.parts]


def post_xml(server: str, user: MadeUser, xml: bytes) -> requests.Response:
    files = {"xml_submission_file": ("instance.xml", xml, "text/xml")}
    return requests.post(f"{server}{user.prefix}/submission", files=files, timeout=120)


def still_alive(server: str) -> None:
    assert requests.get(server + "/", timeout=30).status_code == 200


@pytest.mark.parametrize("case", sorted(XML_CORPUS))
def test_hostile_xml_is_refused_with_an_openrosa_message(
    server: str, enumerator: MadeUser, app: Flask, settings: Settings, case: str
) -> None:
    xml, allowed = XML_CORPUS[case]
    answer = post_xml(server, enumerator, xml)
    assert answer.status_code in allowed, (answer.status_code, answer.text[:500])
    if answer.status_code >= 400:
        assert b'<message nature="error">' in answer.content
        assert stored_versions(app) == 0
        assert blob_files(settings) == []
    assert b"root:" not in answer.content  # /etc/passwd never echoed
    still_alive(server)


def raw_post(server: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
    """Send exactly these bytes (requests would fix a broken body); return the status and the answer."""
    url = urlsplit(server)
    with socket.create_connection((url.hostname, url.port), timeout=60) as conn:
        head = f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\nConnection: close\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        conn.sendall(head.encode() + body)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    answer = b"".join(chunks)
    return int(answer.split(b" ", 2)[1]), answer


def multipart(boundary: str, parts: list[tuple[str, str, bytes]], close: bool = True) -> bytes:
    out = b""
    for name, filename, data in parts:
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'.encode()
        out += b"Content-Type: application/octet-stream\r\n\r\n" + data + b"\r\n"
    return out + (f"--{boundary}--\r\n".encode() if close else b"")


def _simple() -> bytes:
    return instance(b"<name>ok</name>")


MULTIPART_CORPUS: dict[str, Callable[[], tuple[dict[str, str], bytes, set[int]]]] = {
    "unterminated": lambda: (
        {"Content-Type": "multipart/form-data; boundary=b0"},
        multipart("b0", [("xml_submission_file", "i.xml", _simple())], close=False),
        {400},
    ),
    "no-boundary": lambda: ({"Content-Type": "multipart/form-data"}, b"--x\r\n\r\n", {400}),
    "garbage": lambda: ({"Content-Type": "multipart/form-data; boundary=zz"}, bytes(range(256)) * 4, {400}),
    "not-multipart": lambda: ({"Content-Type": "application/json"}, b'{"xml_submission_file": 1}', {400}),
    "thousands-of-parts": lambda: (
        {"Content-Type": "multipart/form-data; boundary=b1"},
        multipart(
            "b1", [("xml_submission_file", "i.xml", _simple())] + [(f"f{i}", f"f{i}", b"x") for i in range(5000)]
        ),
        {400, 413},
    ),
    "header-injection-in-filename": lambda: (
        {"Content-Type": "multipart/form-data; boundary=b2"},
        multipart("b2", [("xml_submission_file", "i.xml\r\nX-Evil: 1", _simple())]),
        {201, 400},
    ),
}


@pytest.mark.parametrize("case", sorted(MULTIPART_CORPUS))
def test_malformed_multipart_is_refused(
    server: str, enumerator: MadeUser, app: Flask, settings: Settings, case: str
) -> None:
    headers, body, allowed = MULTIPART_CORPUS[case]()
    headers["Content-Length"] = str(len(body))
    status, answer = raw_post(server, f"{enumerator.prefix}/submission", headers, body)
    assert status in allowed, answer[:600]
    if status >= 400:
        assert b"OpenRosaResponse" in answer
        assert stored_versions(app) == 0
        assert blob_files(settings) == []
    still_alive(server)


def test_an_oversized_body_is_refused_before_it_is_sent(
    server: str, enumerator: MadeUser, app: Flask, settings: Settings
) -> None:
    declared = settings.max_upload_bytes + 1
    headers = {"Content-Type": "multipart/form-data; boundary=b3", "Content-Length": str(declared)}
    status, answer = raw_post(server, f"{enumerator.prefix}/submission", headers, b"--b3\r\n")
    assert status == 413, answer[:600]
    assert b"OpenRosaResponse" in answer
    assert stored_versions(app) == 0
    still_alive(server)


@pytest.mark.parametrize(
    "name", ["../../../../tmp/chainlift-evil.jpg", "/etc/cron.d/evil", "..\\..\\evil.jpg", "a/../../b"]
)
def test_attachment_names_never_become_paths(  # noqa: PLR0917 - fixtures and the parameter
    server: str, enumerator: MadeUser, app: Flask, settings: Settings, odk: Path, name: str
) -> None:
    marker = uuid.uuid4().hex.encode()
    xml = (odk / "instances/binaryType/one.xml").read_bytes().replace(b"my_file1.mp4", name.encode())
    files = {"xml_submission_file": ("instance.xml", xml, "text/xml"), name: (name, marker, "image/jpeg")}
    answer = requests.post(f"{server}{enumerator.prefix}/submission", files=files, timeout=60)
    assert answer.status_code in {201, 400}, answer.text
    outside = [*Path("/tmp").glob("chainlift-evil*"), Path("/etc/cron.d/evil")]
    assert not any(p.exists() for p in outside)
    for path in blob_files(settings):
        assert path.resolve().is_relative_to(settings.media_root.resolve())
    if answer.status_code == 201:
        with app.app_context(), transaction() as session:
            stored = session.scalars(select(Attachment.name)).all()
        assert name in stored  # kept as data, never as a path


INJECTIONS = [
    "' OR '1'='1",
    "1; DROP TABLE users; --",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "%00",
    "😀" * 50,
]


@pytest.mark.parametrize("value", INJECTIONS)
def test_api_query_parameters_cannot_inject(server: str, factory: Factory, value: str) -> None:
    manager = factory.user("hostile_manager", Role.MANAGER)
    token = requests.post(
        f"{server}/api/v1/auth/token", json={"username": manager.username, "password": manager.password}, timeout=30
    ).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    for path, param in (("/api/v1/indicators", "chain"), ("/api/v1/submissions", "form"), ("/api/v1/firms", "chain")):
        answer = requests.get(f"{server}{path}", params={param: value}, headers=headers, timeout=30)
        assert answer.status_code in {200, 400, 404, 422}, (path, answer.text)
        assert answer.headers["Content-Type"].startswith(("application/json", "application/problem+json"))
        assert "<script>" not in answer.text or answer.headers["Content-Type"].endswith("json")
    assert requests.get(f"{server}/api/v1/catalogue/chains", headers=headers, timeout=30).status_code == 200
