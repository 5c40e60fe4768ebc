"""The database goes away: POST /submission answers 503 with an OpenRosa message and Retry-After, stores nothing
(no rows, no blob files), and the phones' retries succeed once it is back."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager

import pytest
import requests
from defusedxml import ElementTree
from flask import Flask
from requests.auth import HTTPDigestAuth

from app.config import Settings
from tests import conftest
from tests.faults.checks import blob_files, problems, stored
from tests.faults.outage import postgres_down, sqlite_locked
from tests.faults.survey import Instance, baseline_interviews, conflicting, with_attachments
from tests.helpers import MadeUser, submit
from tests.live import running_server

OPENROSA = "{http://openrosa.org/http/response}"
SQLITE_TIMEOUT_S = 2  # the server's busy timeout here, so that a held lock outlasts it quickly


@pytest.fixture
def outage(settings: Settings, test_database: conftest.TestDatabase) -> Iterator[AbstractContextManager[None]]:
    if test_database.server_url is None:
        yield sqlite_locked(settings.database_url)
    else:
        yield postgres_down(settings.database_url, test_database.server_url)


def _post(base: str, user: MadeUser, instance: Instance, digest: bool) -> requests.Response:
    parts = [("xml_submission_file", ("instance.xml", instance.xml, "text/xml"))]
    parts += [(name, (name, data, "image/jpeg")) for name, data in instance.files.items()]
    url = f"{base}/submission" if digest else f"{base}{user.prefix}/submission"
    auth = HTTPDigestAuth(user.username, user.password) if digest else None
    headers = {"X-OpenRosa-Version": "1.0"}
    return requests.post(url, files=parts, auth=auth, headers=headers, timeout=60)


def _post_all(base: str, users: list[MadeUser], instances: list[Instance]) -> list[requests.Response]:
    with ThreadPoolExecutor(max_workers=len(instances)) as pool:
        jobs = [pool.submit(_post, base, users[n % len(users)], inst, n % 2 == 1) for n, inst in enumerate(instances)]
        return [job.result() for job in jobs]


def _server_env(settings: Settings) -> dict[str, str]:
    if settings.database_url.startswith("sqlite"):
        return {"DATABASE_URL": f"{settings.database_url}?timeout={SQLITE_TIMEOUT_S}"}
    return {}


@pytest.mark.timeout(300)
def test_an_outage_gets_503_with_an_openrosa_message_stores_nothing_and_retries_succeed(
    app: Flask, settings: Settings, enumerators: list[MadeUser], outage: AbstractContextManager[None]
) -> None:
    survey = baseline_interviews(app, 6)
    files = with_attachments(6)
    before, during = [survey[0], files[0]], survey[1:] + files[1:]
    with running_server(settings, workers=2, threads=4, env=_server_env(settings)) as server:
        assert [r.status_code for r in _post_all(server.base, enumerators, before)] == [201, 201]
        media_before = blob_files(settings.media_root)

        with outage:
            answers = _post_all(server.base, enumerators, during)
            media_during = blob_files(settings.media_root)

        for answer in answers:
            assert answer.status_code == 503, answer.text
            assert answer.headers["Content-Type"].startswith("text/xml")
            assert int(answer.headers["Retry-After"]) > 0
            root = ElementTree.fromstring(answer.content)
            assert root.tag == f"{OPENROSA}OpenRosaResponse"
            message = root.find(f"{OPENROSA}message")
            assert message is not None and message.get("nature") == "error" and message.text
        assert media_during == media_before  # no blob (nor temporary file) left by the refused posts
        assert set(stored(app)) == {i.instance_id for i in before}  # no row either

        retried = _post_all(server.base, enumerators, during)
    assert [r.status_code for r in retried] == [201] * len(during)
    assert problems(app, before + during, settings.media_root) == []


def test_a_refused_submission_leaves_none_of_its_files(
    app: Flask, settings: Settings, enumerators: list[MadeUser]
) -> None:
    """A conflicting copy (409) brings a file nobody else has: the blob written before the refusal goes again."""
    first = with_attachments(1)[0]
    client, prefix = app.test_client(), enumerators[0].prefix
    assert submit(client, prefix, first.xml, first.files).status_code == 201
    media = blob_files(settings.media_root)
    other = conflicting(first)
    refused = submit(client, prefix, other.xml, {name: b"other bytes " + data for name, data in first.files.items()})
    assert refused.status_code == 409
    assert blob_files(settings.media_root) == media
    assert problems(app, [first], settings.media_root) == []
