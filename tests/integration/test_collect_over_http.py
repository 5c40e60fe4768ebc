"""ODK Collect's conversation with a real gunicorn server over real HTTP (../shared/docs/openrosa.md §2-§5, §8).

Collect: GET formList → 401 Digest challenge → GET formList with Digest → download the form (hash check) →
manifest → media → HEAD /submission (expects 204) → POST multipart, split over two requests.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from email.utils import parsedate_to_datetime
from pathlib import Path

import requests
from defusedxml import ElementTree
from requests.auth import HTTPDigestAuth
from urllib3 import encode_multipart_formdata

from app.config import Settings
from tests.helpers import Factory

XF = "{http://openrosa.org/xforms/xformsList}"
MF = "{http://openrosa.org/xforms/xformsManifest}"
COLLECT_HEADERS = {"X-OpenRosa-Version": "1.0", "User-Agent": "org.odk.collect.android/v2024.3.0 test"}


def test_collect_session_with_digest_auth(server: str, factory: Factory, odk: Path) -> None:
    factory.publish(odk / "forms/binaryType.xml")
    goodone = b"name,label\na,A\n"
    factory.publish(odk / "forms/withAttachments.xml", media={"goodone.csv": goodone})
    user = factory.user("amina")
    device = {"deviceID": "collect:e2e-1"}

    anonymous = requests.get(f"{server}/formList", params=device, headers=COLLECT_HEADERS, timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Digest ")

    phone = requests.Session()
    phone.headers.update(COLLECT_HEADERS)
    phone.auth = HTTPDigestAuth(user.username, user.password)

    listing = phone.get(f"{server}/formList", params=device, timeout=10)
    assert listing.status_code == 200
    assert listing.headers["X-OpenRosa-Version"] == "1.0"
    assert "text/xml" in listing.headers["Content-Type"]
    entries = {e.findtext(f"{XF}formID"): e for e in ElementTree.fromstring(listing.content).findall(f"{XF}xform")}
    assert set(entries) == {"binaryType", "withAttachments"}

    for entry in entries.values():
        form = phone.get(entry.findtext(f"{XF}downloadUrl", ""), params=device, timeout=10)
        assert form.status_code == 200
        assert entry.findtext(f"{XF}hash") == "md5:" + hashlib.md5(form.content).hexdigest()

    manifest = phone.get(entries["withAttachments"].findtext(f"{XF}manifestUrl", ""), params=device, timeout=10)
    assert manifest.status_code == 200 and "text/xml" in manifest.headers["Content-Type"]
    [media] = ElementTree.fromstring(manifest.content).findall(f"{MF}mediaFile")
    downloaded = phone.get(media.findtext(f"{MF}downloadUrl", ""), params=device, timeout=10)
    assert downloaded.content == goodone
    assert media.findtext(f"{MF}hash") == "md5:" + hashlib.md5(downloaded.content).hexdigest()

    head = phone.head(f"{server}/submission", params=device, timeout=10)
    assert head.status_code == 204
    limit = int(head.headers["X-OpenRosa-Accept-Content-Length"])
    assert limit > 0

    xml = (odk / "instances/binaryType/both.xml").read_bytes()
    mp4 = (odk / "attachments/my_file1.mp4").read_bytes()
    jpg = (odk / "attachments/here_is_file2.jpg").read_bytes()
    first = phone.post(
        f"{server}/submission",
        params=device,
        files=[
            ("xml_submission_file", ("both.xml", xml, "text/xml")),
            ("my_file1.mp4", ("my_file1.mp4", mp4, "video/mp4")),
            ("*isIncomplete*", (None, "yes")),
        ],
        timeout=30,
    )
    assert first.status_code == 201, first.text
    assert "<OpenRosaResponse" in first.text
    second = phone.post(
        f"{server}/submission",
        params=device,
        files=[
            ("xml_submission_file", ("both.xml", xml, "text/xml")),
            ("here_is_file2.jpg", ("here_is_file2.jpg", jpg, "image/jpeg")),
        ],
        timeout=30,
    )
    assert second.status_code == 201, second.text
    retry = phone.post(
        f"{server}/submission",
        params=device,
        files=[("xml_submission_file", ("both.xml", xml, "text/xml"))],
        timeout=30,
    )
    assert retry.status_code == 202


def test_app_user_token_url_and_chunked_upload(server: str, factory: Factory, odk: Path) -> None:
    factory.publish(odk / "forms/simple.xml")
    user = factory.user("kofi")
    base = f"{server}{user.prefix}"
    listing = requests.get(f"{base}/formList", headers=COLLECT_HEADERS, timeout=10)
    assert listing.status_code == 200
    [entry] = ElementTree.fromstring(listing.content).findall(f"{XF}xform")
    assert entry.findtext(f"{XF}downloadUrl", "").startswith(f"{base}/forms/")
    assert requests.head(f"{base}/submission", headers=COLLECT_HEADERS, timeout=10).status_code == 204

    body, content_type = encode_multipart_formdata(
        [("xml_submission_file", ("one.xml", (odk / "instances/simple/one.xml").read_bytes(), "text/xml"))]
    )

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(body), 64):
            yield body[i : i + 64]

    response = requests.post(
        f"{base}/submission",
        data=chunks(),  # no Content-Length: Transfer-Encoding: chunked
        headers={**COLLECT_HEADERS, "Content-Type": content_type},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    assert requests.get(f"{server}/key/wrong/formList", headers=COLLECT_HEADERS, timeout=10).status_code == 403


def test_every_openrosa_response_has_exactly_one_date(server: str, factory: Factory, odk: Path) -> None:
    """OpenRosa requires Date on every response (openrosa.md §1), and Date is a singleton field (RFC 9110 §6.6.1).
    The app sets one for any server; gunicorn drops it and sends its own, so the phone sees one."""
    factory.publish(odk / "forms/simple.xml")
    user = factory.user("esi")
    base = f"{server}{user.prefix}"
    body, content_type = encode_multipart_formdata(
        [("xml_submission_file", ("one.xml", (odk / "instances/simple/one.xml").read_bytes(), "text/xml"))]
    )
    listing = requests.get(f"{base}/formList", headers=COLLECT_HEADERS, timeout=10)
    [entry] = ElementTree.fromstring(listing.content).findall(f"{XF}xform")
    responses = {
        "formList": listing,
        "form": requests.get(entry.findtext(f"{XF}downloadUrl", ""), headers=COLLECT_HEADERS, timeout=10),
        "HEAD": requests.head(f"{base}/submission", headers=COLLECT_HEADERS, timeout=10),
        "POST": requests.post(
            f"{base}/submission", data=body, headers={**COLLECT_HEADERS, "Content-Type": content_type}, timeout=30
        ),
        "error": requests.post(
            f"{base}/submission", data=b"x", headers={**COLLECT_HEADERS, "Content-Type": content_type}, timeout=30
        ),
    }
    assert {name: r.status_code for name, r in responses.items()} == {
        "formList": 200,
        "form": 200,
        "HEAD": 204,
        "POST": 201,
        "error": 400,
    }
    for name, response in responses.items():
        dates = response.raw.headers.getlist("Date")
        assert len(dates) == 1, (name, dates)
        assert parsedate_to_datetime(dates[0]).tzinfo is not None, (name, dates)
        assert response.headers["X-OpenRosa-Version"] == "1.0", name


def test_access_log_never_shows_app_user_tokens(server: str, factory: Factory, settings: Settings) -> None:
    user = factory.user("kofi")
    assert user.token is not None
    assert requests.head(f"{server}{user.prefix}/submission?deviceID=x", timeout=10).status_code == 204
    log = settings.instance_path / "access.log"
    deadline = time.monotonic() + 5
    while "/key/***/submission" not in (log.read_text() if log.exists() else "") and time.monotonic() < deadline:
        time.sleep(0.05)  # gunicorn writes the line after the response
    text = log.read_text()
    assert "/key/***/submission" in text
    assert user.token not in text


def test_concurrent_identical_posts_store_one_submission(server: str, factory: Factory, odk: Path) -> None:
    factory.publish(odk / "forms/simple.xml")
    user = factory.user("kofi")
    xml = (odk / "instances/simple/one.xml").read_bytes()

    def post(_: int) -> int:
        response = requests.post(
            f"{server}{user.prefix}/submission",
            files=[("xml_submission_file", ("one.xml", xml, "text/xml"))],
            headers=COLLECT_HEADERS,
            timeout=30,
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(post, range(16)))
    assert statuses.count(201) == 1, statuses
    assert statuses.count(202) == 15, statuses
