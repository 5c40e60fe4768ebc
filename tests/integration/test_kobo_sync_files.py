"""The pull sync downloads a record's files (photos, audio, audit logs) into the blob store, as KPI serves them."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
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
SHOP = "shop-front.jpg"  # a second picture question
FORM = md_form(
    [
        ["type", "name", "label"],
        ["text", "fname", "Name"],
        ["image", "A_picture", "Picture"],
        ["image", "B_picture", "Shop"],
    ],
    [],
    {"form_id": "photos", "version": "1"},
)


@pytest.fixture
def kobo_server() -> Iterator[FakeKobo]:
    with running(FakeKobo()) as fake:
        yield fake


def _listed(base: str, kobo_id: int, key: str, name: str, *, deleted: bool = False) -> dict[str, Any]:
    return {
        "download_url": f"{base}/api/v2/assets/{UID}/data/{kobo_id}/attachments/{key}/",
        "download_small_url": f"{base}/api/v2/assets/{UID}/data/{kobo_id}/attachments/{key}/?size=small",
        "mimetype": "image/jpeg",
        "filename": f"owner/attachments/b26f2a9b/{kobo_id}/{name}",
        "media_file_basename": name,
        "uid": key,
        "is_deleted": deleted,
        "question_xpath": "A_picture" if name == PHOTO else "B_picture",
    }


def _record(base: str, kobo_id: int) -> dict[str, Any]:
    """A current-KPI record (kobo.md §1.2) with two pictures; the first one was replaced in KoBo (deleted, same
    name), and KoBo lists the deleted file first."""
    instance = str(uuid.uuid4())
    return {
        "_id": kobo_id,
        "formhub/uuid": "b26f2a9b9b7a49608920ad76cba3c315",
        "fname": f"Farm {kobo_id}",
        "A_picture": PHOTO,
        "B_picture": SHOP,
        "meta/instanceID": f"uuid:{instance}",
        "meta/rootUuid": f"uuid:{instance}",
        "__version__": "vDeployed0000000000001",
        "_xform_id_string": UID,
        "_uuid": instance,
        "_attachments": [
            _listed(base, kobo_id, f"old{kobo_id}", PHOTO, deleted=True),
            _listed(base, kobo_id, f"att{kobo_id}", PHOTO),
            _listed(base, kobo_id, f"shop{kobo_id}", SHOP),
        ],
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
        added.attach(record["_id"], f"shop{record['_id']}", _shop(record["_id"]))
        added.attach(record["_id"], f"old{record['_id']}", b"the picture KoBo replaced")
    return added


def _photo(kobo_id: int) -> bytes:
    return b"\xff\xd8\xff\xe0 photo of farm " + str(kobo_id).encode() * 2000


def _shop(kobo_id: int) -> bytes:
    return b"\xff\xd8\xff\xe0 shop " + str(kobo_id).encode() * 300


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
    return {kobo_id: sorted(slots, key=lambda slot: slot[0]) for kobo_id, slots in out.items()}


def _file_requests(fake: FakeKobo) -> list[str]:
    return [path for path, _ in fake.log if "/attachments/" in path]


def _slot(name: str, data: bytes) -> tuple[str, str, int, str]:
    return (name, hashlib.sha256(data).hexdigest(), len(data), "image/jpeg")


def _expected(kobo_id: int) -> list[tuple[str, str | None, int | None, str | None]]:
    return sorted([_slot(PHOTO, _photo(kobo_id)), _slot(SHOP, _shop(kobo_id))])


EMPTY_PHOTO = (PHOTO, None, None, None)
EMPTY_SHOP = (SHOP, None, None, None)


def _last_run(app: Flask) -> KoboSyncRun:
    with app.app_context(), transaction() as session:
        run = session.scalars(select(KoboSyncRun).order_by(KoboSyncRun.id.desc())).first()
        assert run is not None
        return run


def test_the_sync_downloads_each_file_once_into_the_blob_store(
    app: Flask, kobo_server: FakeKobo, asset: FakeAsset
) -> None:
    report = _sync(app, server=kobo_server.base)
    assert (report.created, report.files, report.errors) == (2, 4, 0)
    assert _slots(app) == {7: _expected(7), 8: _expected(8)}
    for kobo_id in (7, 8):
        for data in (_photo(kobo_id), _shop(kobo_id)):
            with app.extensions["blobs"].open(hashlib.sha256(data).hexdigest()) as stored:
                assert stored.read() == data
    assert sorted(_file_requests(kobo_server)) == [  # not the deleted file of the same name, listed first
        f"/api/v2/assets/{UID}/data/{i}/attachments/{key}{i}/" for i in (7, 8) for key in ("att", "shop")
    ]
    assert _last_run(app).file_count == 4


def test_a_file_that_fails_is_reported_and_fetched_by_the_next_sync(
    app: Flask, kobo_server: FakeKobo, asset: FakeAsset
) -> None:
    def broken(request: Request) -> int | None:
        return 503 if request.path.endswith("/attachments/shop8/") else None  # KoBo busy: retried, then reported

    kobo_server.fail = broken
    first = _sync(app, server=kobo_server.base)
    assert (first.created, first.files, first.errors) == (2, 3, 1)
    assert _slots(app) == {7: _expected(7), 8: [_slot(PHOTO, _photo(8)), EMPTY_SHOP]}  # stored; one file to come
    run = _last_run(app)
    assert run.status is SyncStatus.SUCCEEDED
    [problem] = run.problems
    assert problem["_id"] == "8" and SHOP in problem["message"] and "503" in problem["message"]
    # asked with its retries in this run; the check phase does not ask again until the next run
    assert len([p for p in _file_requests(kobo_server) if p.endswith("/shop8/")]) == 4

    kobo_server.fail = None
    kobo_server.log.clear()
    second = _sync(app)
    assert (second.created, second.edited, second.files, second.errors) == (0, 0, 1, 0)
    assert _slots(app) == {7: _expected(7), 8: _expected(8)}
    assert _file_requests(kobo_server) == [f"/api/v2/assets/{UID}/data/8/attachments/shop8/"]  # not the one held
    with app.app_context(), transaction() as session:  # the file joined the version it belongs to: no new version
        assert session.scalar(select(func.count()).select_from(SubmissionVersion)) == 2

    kobo_server.log.clear()
    assert (_sync(app).files, _file_requests(kobo_server)) == (0, [])  # complete: nothing is fetched again


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_file_over_the_size_limit_is_refused_and_nothing_of_it_is_kept(
    app: Flask, kobo_server: FakeKobo, asset: FakeAsset, chunked: bool
) -> None:
    asset.chunked = chunked
    report = _sync(app, server=kobo_server.base, max_file_bytes=len(_photo(7)) - 1)
    assert (report.created, report.files, report.errors) == (2, 2, 2)  # the shop pictures are smaller
    assert _slots(app) == {7: [EMPTY_PHOTO, _slot(SHOP, _shop(7))], 8: [EMPTY_PHOTO, _slot(SHOP, _shop(8))]}
    assert all("over the limit" in p["message"] for p in _last_run(app).problems)
    blobs = app.extensions["blobs"]
    assert not blobs.path(hashlib.sha256(_photo(7)).hexdigest()).exists()
    assert not list((blobs.root / "tmp").iterdir())


def test_files_named_only_by_old_links_and_cleaned_names_come_from_the_api_server(
    app: Flask, kobo_server: FakeKobo, asset: FakeAsset
) -> None:
    """Records from before KPI 2.024 link to KoboCAT (another host: the token never goes there), have no
    media_file_basename, and name the file as KoBo cleaned it; one without a key to build KPI's link is reported."""
    for record in asset.records:
        for listed in record["_attachments"]:
            listed["download_url"] = "https://kc.elsewhere.example/media/original?media_file=x.jpg"
            del listed["media_file_basename"], listed["question_xpath"]
            if listed["filename"].endswith(PHOTO):
                listed["filename"] = listed["filename"].replace(PHOTO, "Un_ete_au_Quebec_Canada-19_41_32.jpg")
    del asset.records[1]["_attachments"][2]["uid"]  # record 8's shop picture: no key
    report = _sync(app, server=kobo_server.base)
    assert (report.created, report.files) == (2, 3)
    assert _slots(app) == {7: _expected(7), 8: [_slot(PHOTO, _photo(8)), EMPTY_SHOP]}
    assert sorted(_file_requests(kobo_server)) == [
        f"/api/v2/assets/{UID}/data/7/attachments/att7/",
        f"/api/v2/assets/{UID}/data/7/attachments/shop7/",
        f"/api/v2/assets/{UID}/data/8/attachments/att8/",
    ]
    assert any("no link" in p["message"] and p["_id"] == "8" for p in _last_run(app).problems)


def test_a_file_kobo_does_not_list_is_reported(app: Flask, kobo_server: FakeKobo, asset: FakeAsset) -> None:
    asset.records[1]["_attachments"] = asset.records[1]["_attachments"][:2]  # record 8: no shop picture in KoBo
    report = _sync(app, server=kobo_server.base)
    assert (report.created, report.files) == (2, 3)
    assert _slots(app)[8] == [_slot(PHOTO, _photo(8)), EMPTY_SHOP]
    [problem] = _last_run(app).problems
    assert problem["_id"] == "8" and "not among the record's attachments" in problem["message"]


def test_a_page_is_stored_in_several_transactions_when_it_brings_many_files(
    app: Flask, kobo_server: FakeKobo, asset: FakeAsset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each claimed file holds a descriptor open until its transaction ends: a page of 1,000 records with
    photos must not hold thousands at once."""
    monkeypatch.setattr(kobo_sync, "FILES_PER_TRANSACTION", 2)
    transactions: list[int] = []
    original = kobo_sync._store_page

    def counted(*args: Any) -> None:
        transactions.append(len(args[4]))  # the records
        original(*args)

    monkeypatch.setattr(kobo_sync, "_store_page", counted)
    report = _sync(app, server=kobo_server.base, page_size=1000)
    assert (report.created, report.files, report.errors, report.pages) == (2, 4, 0, 1)
    assert transactions == [1, 1]
    assert _slots(app) == {7: _expected(7), 8: _expected(8)}


def test_files_of_a_page_that_did_not_commit_are_removed_and_kept_once_it_may_have(
    app: Flask, kobo_server: FakeKobo, asset: FakeAsset, monkeypatch: pytest.MonkeyPatch
) -> None:
    blobs = app.extensions["blobs"]
    photo = blobs.path(hashlib.sha256(_photo(7)).hexdigest())
    pages: list[int] = []
    store_page, writing = kobo_sync._store_page, kobo_sync._writing

    def failing(*args: Any) -> None:
        store_page(*args)
        raise OSError("disk gone")  # inside the page's transaction: it rolls back

    monkeypatch.setattr(kobo_sync, "_store_page", failing)
    with pytest.raises(OSError, match="disk gone"):
        _sync(app, server=kobo_server.base)
    assert not photo.exists()  # nothing refers to it, so it went
    assert _slots(app) == {}

    def marked(*args: Any) -> None:
        pages.append(len(args[4]))
        store_page(*args)

    @contextmanager
    def interrupted(factory: Any) -> Iterator[Any]:
        before = len(pages)
        with writing(factory) as session:
            yield session
        if len(pages) > before:
            raise KeyboardInterrupt  # Ctrl-C just after a page's COMMIT

    monkeypatch.setattr(kobo_sync, "_store_page", marked)
    monkeypatch.setattr(kobo_sync, "_writing", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _sync(app, force=True)
    assert _slots(app)[7] == _expected(7)  # committed: its rows are there, and so must its files be
    assert photo.exists()


def test_the_files_of_a_record_a_hook_delivered_come_with_the_next_sync(
    app: Flask, kobo_server: FakeKobo, asset: FakeAsset
) -> None:
    """A REST-service hook has no API token: its record waits for its files until the sync fetches them."""
    _sync(app, server=kobo_server.base)
    hooked = _record(kobo_server.base, 9)
    asset.records.append(hooked)
    asset.attach(9, "att9", _photo(9))
    asset.attach(9, "shop9", _shop(9))
    with app.app_context(), transaction(write=True) as session:
        form = session.scalars(select(Form).where(Form.form_id == "photos")).one()
        delivery = Delivery(json.dumps(hooked).encode(), JSON_TYPE, KoboSource.HOOK)
        assert kobo.store(session, form, delivery).outcome is Outcome.CREATED
    assert _slots(app)[9] == [EMPTY_PHOTO, EMPTY_SHOP]

    report = _sync(app)
    assert (report.created, report.unchanged, report.files, report.errors) == (0, 1, 2, 0)
    assert _slots(app)[9] == _expected(9)
    with app.app_context(), transaction() as session:
        versions = session.scalar(
            select(func.count())
            .select_from(SubmissionVersion)
            .join(KoboRecord, KoboRecord.submission_id == SubmissionVersion.submission_id)
            .where(KoboRecord.kobo_id == 9)
        )
        assert versions == 1
