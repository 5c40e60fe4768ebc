"""Form List API, form download, manifest and media (../shared/docs/openrosa.md §2-§4, checklist items 1-2)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from defusedxml import ElementTree
from flask.testing import FlaskClient

from tests.helpers import Factory

XF = "{http://openrosa.org/xforms/xformsList}"
MF = "{http://openrosa.org/xforms/xformsManifest}"


def _list(client: FlaskClient, url: str):  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == 200, response.data
    return response, ElementTree.fromstring(response.data)


def test_formlist_is_namespaced_and_hash_is_md5_of_served_bytes(
    client: FlaskClient, factory: Factory, odk: Path
) -> None:
    factory.publish(odk / "forms/simple.xml")
    factory.publish(odk / "forms/withrepeat.xml")
    user = factory.user()
    response, root = _list(client, f"{user.prefix}/formList?deviceID=collect%3Aabc")

    assert response.headers["X-OpenRosa-Version"] == "1.0"
    assert "text/xml" in response.headers["Content-Type"]
    assert int(response.headers["X-OpenRosa-Accept-Content-Length"]) > 0
    assert response.headers["Date"]
    assert root.tag == f"{XF}xforms"
    entries = root.findall(f"{XF}xform")
    assert [e.findtext(f"{XF}formID") for e in entries] == ["simple", "withrepeat"]  # sorted by title
    for entry in entries:
        for child in ("formID", "name", "version", "hash", "downloadUrl"):
            assert entry.find(f"{XF}{child}") is not None, child
        url = entry.findtext(f"{XF}downloadUrl")
        assert url is not None and url.startswith("http://localhost/key/")
        served = client.get(url.removeprefix("http://localhost"))
        assert served.status_code == 200
        assert entry.findtext(f"{XF}hash") == "md5:" + hashlib.md5(served.data).hexdigest()
        assert entry.find(f"{XF}manifestUrl") is None  # neither form declares media
    simple = entries[0]
    assert simple.findtext(f"{XF}hash") == "md5:5c09c21d4c71f2f13f6aa26227b2d133"  # what Central lists
    assert (odk / "forms/simple.xml").read_bytes() == client.get(
        simple.findtext(f"{XF}downloadUrl", "").removeprefix("http://localhost")
    ).data


def test_formlist_honours_formid_and_verbose(client: FlaskClient, factory: Factory, odk: Path) -> None:
    factory.publish(odk / "forms/simple.xml")
    factory.publish(odk / "forms/withrepeat.xml")
    user = factory.user()
    _, root = _list(client, f"{user.prefix}/formList?formID=withrepeat&verbose=true")
    entries = root.findall(f"{XF}xform")
    assert [e.findtext(f"{XF}formID") for e in entries] == ["withrepeat"]
    assert entries[0].findtext(f"{XF}descriptionText")
    assert entries[0].findtext(f"{XF}version") == "1.0"


def test_list_all_versions_lists_every_version_with_its_own_hash(
    client: FlaskClient, factory: Factory, odk: Path
) -> None:
    original = (odk / "forms/simple2.xml").read_bytes()
    factory.publish_bytes("simple2.xml", original)
    factory.publish_bytes("simple2.xml", original.replace(b'version="2.1"', b'version="2.2"'))
    user = factory.user()
    _, current = _list(client, f"{user.prefix}/formList")
    assert [e.findtext(f"{XF}version") for e in current.findall(f"{XF}xform")] == ["2.2"]
    _, every = _list(client, f"{user.prefix}/formList?listAllVersions=true")
    entries = every.findall(f"{XF}xform")
    assert sorted(e.findtext(f"{XF}version") or "" for e in entries) == ["2.1", "2.2"]
    assert len({e.findtext(f"{XF}hash") for e in entries}) == 2


def test_manifest_lists_media_with_md5_and_download(client: FlaskClient, factory: Factory, odk: Path) -> None:
    goodone = b"name,label\na,A\n"
    factory.publish(odk / "forms/withAttachments.xml", media={"goodone.csv": goodone, "goodtwo.mp3": b"ID3-audio"})
    user = factory.user()
    _, root = _list(client, f"{user.prefix}/formList")
    manifest_url = root.findtext(f"{XF}xform/{XF}manifestUrl")
    assert manifest_url
    response = client.get(manifest_url.removeprefix("http://localhost") + "?deviceID=x")
    assert response.status_code == 200
    assert "text/xml" in response.headers["Content-Type"]
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    manifest = ElementTree.fromstring(response.data)
    assert manifest.tag == f"{MF}manifest"
    files = {m.findtext(f"{MF}filename"): m for m in manifest.findall(f"{MF}mediaFile")}
    assert set(files) == {"goodone.csv", "goodtwo.mp3"}  # badnestedfile.csv is declared but not supplied
    media = files["goodone.csv"]
    assert media.findtext(f"{MF}hash") == "md5:" + hashlib.md5(goodone).hexdigest()
    download = client.get((media.findtext(f"{MF}downloadUrl") or "").removeprefix("http://localhost"))
    assert download.status_code == 200
    assert download.data == goodone
    download.close()


def test_closed_forms_are_not_listed_and_public_base_url_is_used(
    client: FlaskClient, factory: Factory, odk: Path
) -> None:
    from app.db import transaction
    from app.models import FormState
    from app.services import forms

    factory.publish(odk / "forms/simple.xml")
    factory.publish(odk / "forms/withrepeat.xml")
    with client.application.app_context(), transaction(write=True) as session:
        forms.set_state(session, "withrepeat", FormState.CLOSED)
    client.application.config["PUBLIC_BASE_URL"] = "https://survey.example.org"
    user = factory.user()
    _, root = _list(client, f"{user.prefix}/formList")
    entries = root.findall(f"{XF}xform")
    assert [e.findtext(f"{XF}formID") for e in entries] == ["simple"]
    assert (entries[0].findtext(f"{XF}downloadUrl") or "").startswith("https://survey.example.org/key/")


def test_head_formlist_answers_204_for_enketo(client: FlaskClient, factory: Factory) -> None:
    user = factory.user()
    response = client.head(f"{user.prefix}/formList")
    assert response.status_code == 204
    assert response.headers["X-OpenRosa-Version"] == "1.0"


def test_unknown_form_download_is_an_openrosa_404(client: FlaskClient, factory: Factory, odk: Path) -> None:
    factory.publish(odk / "forms/simple.xml")
    user = factory.user()
    response = client.get(f"{user.prefix}/forms/simple/versions/999.xml")
    assert response.status_code == 404
    assert b"<OpenRosaResponse" in response.data
    assert client.get(f"{user.prefix}/forms/withrepeat/versions/1.xml").status_code == 404
