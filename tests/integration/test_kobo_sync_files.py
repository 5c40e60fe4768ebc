"""The pull sync downloads a record's files (photos, audio, audit logs) into the blob store, as KPI serves them."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.wrappers import Request

from app.db import transaction
from app.models import (
    Attachment,
    Form,
    KoboAsset,
    KoboRecord,
    KoboSource,
    KoboSyncRun,
    Submission,
    SubmissionVersion,
    SyncStatus,
)
from app.services import kobo, kobo_sync
from app.services.kobo import JSON_TYPE, Delivery, Outcome
from tests.fake_kobo import FakeAsset, FakeKobo, running
from tests.kobo_helpers import md_form
from tests.kobo_helpers import xlsx_from_md as xlsx

UID = "aPhotoAssetUid00000001"
ENV = {"KOBO_TOKEN": "kobo-test-token"}
PHOTO = "Un été au Québec (Canada)-19_41_32.jpg"  # the answer's own name, as in kpi's attachment mocks
FORM = md_form(
    [["type", "name", "label"], ["text", "fname", "Name"], ["image", "A_picture", "Picture"]],
    [],
    {"form_id": "photos", "version": "1"},
)


@pytest.fixture
def kobo_server() -> Iterator[FakeKobo]:
    with running(FakeKobo()) as fake:
        yield fake


def _record(base: str, kobo_id: int, photo: str = PHOTO) -> dict[str, Any]:
    """A current-KPI record (kobo.md §1.2) whose picture is listed in ``_attachments``, plus a deleted file."""
    instance = str(uuid.uuid4())
    listed = [
        {
            "download_url": f"{base}/api/v2/assets/{UID}/data/{kobo_id}/attachments/att{kobo_id}/",
            "download_small_url": f"{base}/api/v2/assets/{UID}/data/{kobo_id}/attachments/att{kobo_id}/?size=small",
            "mimetype": "image/jpeg",
            "filename": f"owner/attachments/b26f2a9b/{instance}/Un_ete_au_Quebec_Canada-19_41_32.jpg",
            "media_file_basename": photo,
            "uid": f"att{kobo_id}",
            "is_deleted": False,
            "question_xpath": "A_picture",
        },
        {
            "download_url": f"{base}/api/v2/assets/{UID}/data/{kobo_id}/attachments/old{kobo_id}/",
            "mimetype": "image/jpeg",
            "filename": f"owner/attachments/b26f2a9b/{instance}/replaced.jpg",
            "media_file_basename": "replaced.jpg",
            "uid": f"old{kobo_id}",
            "is_deleted": True,
            "question_xpath": "A_picture",
        },
    ]
    return {
        "_id": kobo_id,
        "formhub/uuid": "b26f2a9b9b7a49608920ad76cba3c315",
        "fname": f"Farm {kobo_id}",
        "A_picture": photo,
        "meta/instanceID": f"uuid:{instance}",
        "meta/rootUuid": f"uuid:{instance}",
        "__version__": "vDeployed0000000000001",
        "_xform_id_string": UID,
        "_uuid": instance,
        "_attachments": listed,
        "_status": "submitted_via_web",
        "_geolocation": [None, None],
        "_submission_time": "2026-11-10T06:55:00",
        "_validation_status": {},
        "_submitted_by": None,
    }


@pytest.fixture
def asset(kobo_server: FakeKobo) -> FakeAsset:
    records = [_record(kobo_server.base, i) for i in (7, 8)]
    added = kobo_server.add(FakeAsset(UID, "Photos", xlsx(FORM), records=records))
    for record in records:
        added.attach(record["_id"], f"att{record['_id']}", _photo(record["_id"]))
        added.attach(record["_id"], f"old{record['_id']}", b"a file KoBo deleted")
    return added


def _photo(kobo_id: int) -> bytes:
    return b"\xff\xd8\xff\xe0 photo of farm " + str(kobo_id).encode() * 200


def _sync(app: Flask, **options: Any) -> kobo_sync.SyncReport:
    with app.app_context(), transaction(write=True) as session:
        found = session.scalar(select(KoboAsset.id).where(KoboAsset.asset_uid == UID))
        asset_id = found or kobo_sync.add_asset(session, options.pop("server"), UID, "KOBO_TOKEN").id
    return kobo_sync.sync_asset(
        app.extensions["sessionmaker"],
        asset_id,
        blobs=app.extensions["blobs"],
        environ=ENV,
        retry_backoff=0.01,
        **options,
    )


def _slots(app: Flask) -> dict[int, list[tuple[str, str | None, int | None, str | None]]]:
    """Each record's current attachment slots: (name, sha256, size, content type)."""
    with app.app_context(), transaction() as session:
        rows = session.execute(
            select(KoboRecord.kobo_id, Attachment.name, Attachment.sha256, Attachment.size, Attachment.content_type)
            .join(Submission, Submission.id == KoboRecord.submission_id)
            .join(Attachment, Attachment.version_id == Submission.current_version_id)
            .order_by(KoboRecord.kobo_id)
        ).all()
    out: dict[int, list[tuple[str, str | None, int | None, str | None]]] = {}
    for kobo_id, *slot in rows:
        out.setdefault(kobo_id, []).append(tuple(slot))  # type: ignore[arg-type]
    return out


def _file_requests(fake: FakeKobo) -> list[str]:
    return [path for path, _ in fake.log if "/attachments/" in path]


def _expected(kobo_id: int) -> tuple[str, str, int, str]:
    data = _photo(kobo_id)
    return (PHOTO, hashlib.sha256(data).hexdigest(), len(data), "image/jpeg")


def test_the_sync_downloads_each_file_once_into_the_blob_store(
    app: Flask, kobo_server: FakeKobo, asset: FakeAsset
) -> None:
    report = _sync(app, server=kobo_server.base)
    assert (report.created, report.files, report.errors) == (2, 2, 0)
    assert _slots(app) == {7: [_expected(7)], 8: [_expected(8)]}
    for kobo_id in (7, 8):
        with app.extensions["blobs"].open(_expected(kobo_id)[1]) as stored:
            assert stored.read() == _photo(kobo_id)
    assert sorted(_file_requests(kobo_server)) == [  # the deleted file is not fetched
        f"/api/v2/assets/{UID}/data/7/attachments/att7/",
        f"/api/v2/assets/{UID}/data/8/attachments/att8/",
    ]
    with app.app_context(), transaction() as session:
        run = session.scalars(select(KoboSyncRun).order_by(KoboSyncRun.id.desc())).first()
        assert run is not None and run.file_count == 2

    kobo_server.log.clear()
    again = _sync(app)
    assert (again.created, again.unchanged, again.files, again.errors) == (0, 0, 0, 0)
    assert _file_requests(kobo_server) == []  # held files are not downloaded again


def test_a_file_that_fails_is_reported_and_fetched_by_the_next_sync(
    app: Flask, kobo_server: FakeKobo, asset: FakeAsset
) -> None:
    def broken(request: Request) -> int | None:
        return 503 if request.path.endswith("/attachments/att8/") else None  # KoBo busy: retried, then reported

    kobo_server.fail = broken
    first = _sync(app, server=kobo_server.base)
    assert (first.created, first.files, first.errors) == (2, 1, 1)
    assert _slots(app) == {7: [_expected(7)], 8: [(PHOTO, None, None, None)]}  # stored, its file still expected
    with app.app_context(), transaction() as session:
        run = session.scalars(select(KoboSyncRun).order_by(KoboSyncRun.id.desc())).one()
        assert run.status is SyncStatus.SUCCEEDED
        [problem] = run.problems
        assert problem["_id"] == "8"
        assert PHOTO in problem["message"] and "503" in problem["message"]
    # asked once with its retries in this run: the check phase does not ask again until the next run
    assert len([p for p in _file_requests(kobo_server) if p.endswith("/att8/")]) == 4

    kobo_server.fail = None
    second = _sync(app)
    assert (second.created, second.edited, second.files, second.errors) == (0, 0, 1, 0)
    assert _slots(app) == {7: [_expected(7)], 8: [_expected(8)]}
    with app.app_context(), transaction() as session:  # the file joined the version it belongs to: no new version
        assert session.scalar(select(func.count()).select_from(SubmissionVersion)) == 2


def test_a_file_over_the_size_limit_is_refused_and_nothing_of_it_is_kept(
    app: Flask, kobo_server: FakeKobo, asset: FakeAsset
) -> None:
    report = _sync(app, server=kobo_server.base, max_file_bytes=len(_photo(7)) - 1)
    assert (report.created, report.files, report.errors) == (2, 0, 2)
    assert _slots(app) == {7: [(PHOTO, None, None, None)], 8: [(PHOTO, None, None, None)]}
    with app.app_context(), transaction() as session:
        run = session.scalars(select(KoboSyncRun)).one()
        assert all("over the limit" in p["message"] for p in run.problems)
    blobs = app.extensions["blobs"]
    assert not blobs.path(_expected(7)[1]).exists()
    assert not list((blobs.root / "tmp").iterdir())


def test_a_file_linked_on_another_host_is_fetched_from_the_api_server_only(
    app: Flask, kobo_server: FakeKobo, asset: FakeAsset
) -> None:
    """KoboCAT's old /media/original links may name another host: the token never goes there."""
    for record in asset.records:
        record["_attachments"][0]["download_url"] = "https://kc.elsewhere.example/media/original?media_file=x.jpg"
    del asset.records[1]["_attachments"][0]["uid"]  # no key to build KPI's link from: reported, not fetched
    report = _sync(app, server=kobo_server.base)
    assert (report.created, report.files, report.errors) == (2, 1, 1)
    assert _slots(app) == {7: [_expected(7)], 8: [(PHOTO, None, None, None)]}
    assert _file_requests(kobo_server) == [f"/api/v2/assets/{UID}/data/7/attachments/att7/"]


def test_the_files_of_a_record_a_hook_delivered_come_with_the_next_sync(
    app: Flask, kobo_server: FakeKobo, asset: FakeAsset
) -> None:
    """A REST-service hook has no API token: its record waits for its file until the sync fetches it."""
    _sync(app, server=kobo_server.base)
    hooked = _record(kobo_server.base, 9)
    asset.records.append(hooked)
    asset.attach(9, "att9", _photo(9))
    with app.app_context(), transaction(write=True) as session:
        form = session.scalars(select(Form).where(Form.form_id == "photos")).one()
        delivery = Delivery(json.dumps(hooked).encode(), JSON_TYPE, KoboSource.HOOK)
        assert kobo.store(session, form, delivery).outcome is Outcome.CREATED
    assert _slots(app)[9] == [(PHOTO, None, None, None)]

    report = _sync(app)
    assert (report.created, report.unchanged, report.files, report.errors) == (0, 1, 1, 0)
    assert _slots(app)[9] == [_expected(9)]
    with app.app_context(), transaction() as session:
        versions = session.scalar(
            select(func.count())
            .select_from(SubmissionVersion)
            .join(KoboRecord, KoboRecord.submission_id == SubmissionVersion.submission_id)
            .where(KoboRecord.kobo_id == 9)
        )
        assert versions == 1
