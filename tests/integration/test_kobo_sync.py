"""The pull sync against a real local HTTP server speaking KPI's API v2 (tests/fake_kobo.py)."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.db import transaction
from app.errors import ConflictError
from app.ingest.catalogue import read_catalogue
from app.models import (
    Firm,
    FirmObservation,
    Form,
    KoboAsset,
    KoboFormVersion,
    KoboPayload,
    KoboRecord,
    KoboSyncRun,
    Submission,
    SubmissionVersion,
    SyncStatus,
    UpgradingDecision,
)
from app.services import kobo_sync, rounds
from app.services.catalogue import load_catalogue
from app.services.kobo_client import KoboApiError, KoboClient
from app.services.kobo_sync import KoboSyncError, Progress
from app.vocab import ProcessingStatus, RoundKind
from tests.conftest import ROOT
from tests.fake_kobo import FakeAsset, FakeKobo, running
from tests.kobo_helpers import KOBO, answers_of, edited, flatten_instance, kobo_record, kpi_content_form, load_json
from tests.kobo_helpers import xlsx_from_md as xlsx
from tests.processing_helpers import MINI_FORM, mini_instance

UID = "aMiniAssetUid000000001"
ARBOLES = KOBO / "data_api_pages" / "gc_scripts_hub_arboles"
ENV = {"KOBO_TOKEN": "kobo-test-token"}


@pytest.fixture
def kobo_server() -> Iterator[FakeKobo]:
    with running(FakeKobo()) as fake:
        yield fake


def _record(kobo_id: int, sales: str = "1000", name: str | None = None) -> dict[str, Any]:
    xml = mini_instance(name=name or f"Farm {kobo_id}", sales=sales)
    return kobo_record(xml, {"dec"}, kobo_id=kobo_id, asset_uid=UID, version="vDeployed0000000000001")


@pytest.fixture
def mini_asset(app: Flask, kobo_server: FakeKobo) -> FakeAsset:
    with app.app_context(), transaction(write=True) as session:
        load_catalogue(session, read_catalogue((ROOT / "forms" / "catalogue.yaml").read_text()))
        rounds.create_round(session, "R0", 0, RoundKind.BASELINE)
    records = [_record(i) for i in (11, 12, 15, 20, 21)]
    return kobo_server.add(FakeAsset(UID, "MSE mini survey", xlsx(MINI_FORM), records=records))


def _configure(app: Flask, server: FakeKobo, uid: str = UID) -> int:
    with app.app_context(), transaction(write=True) as session:
        return kobo_sync.add_asset(session, server.base, uid, "KOBO_TOKEN").id


def _sync(app: Flask, asset_id: int, **options: Any) -> kobo_sync.SyncReport:
    options.setdefault("page_size", 2)
    return kobo_sync.sync_asset(
        app.extensions["sessionmaker"],
        asset_id,
        blobs=app.extensions["blobs"],
        environ=ENV,
        retry_backoff=0.01,
        **options,
    )


def _count(app: Flask, model: Any, *where: Any) -> int:
    with app.app_context(), transaction() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _runs(app: Flask) -> list[KoboSyncRun]:
    with app.app_context(), transaction() as session:
        return list(session.scalars(select(KoboSyncRun).order_by(KoboSyncRun.id)))


def test_full_sync_imports_the_form_and_pages_through_next(
    app: Flask, kobo_server: FakeKobo, mini_asset: FakeAsset
) -> None:
    asset_id = _configure(app, kobo_server)
    seen: list[Progress] = []
    report = _sync(app, asset_id, progress=seen.append)
    assert (report.status, report.created, report.edited, report.deleted, report.errors) == (
        SyncStatus.SUCCEEDED,
        5,
        0,
        0,
        0,
    )
    assert report.form_imported == "mini 1"
    assert report.watermark == 21
    # three pages of two, the 2nd and 3rd by following `next` (start=2, start=4), then the _id/_uuid check
    data = kobo_server.data_requests(UID)
    assert [q.get("start") for q in data[:3]] == [None, "2", "4"]
    assert all(q["limit"] == "2" for q in data[1:3]) and "query" not in data[0]
    assert json.loads(data[3]["fields"]) == ["_id", "_uuid"]
    assert len(data) == 4 and report.requests == 6  # + the asset and its .xls
    assert [p.phase for p in seen] == ["form", "new", "new", "new", "done"]
    with app.app_context(), transaction() as session:
        form = session.scalars(select(Form).where(Form.form_id == "mini")).one()
        asset = session.get(KoboAsset, asset_id)
        assert asset is not None
        assert (asset.form_pk, asset.watermark_id, asset.name) == (form.id, 21, "MSE mini survey")
        link = session.get(KoboFormVersion, (form.id, "vDeployed0000000000001"))
        assert link is not None and link.form_version_id == form.current_version_id
        statuses = session.scalars(select(Submission.processing_status)).all()
        assert statuses == [ProcessingStatus.MAPPED] * 5
        assert session.scalar(select(func.count()).select_from(Firm)) == 5
        for record in mini_asset.records:  # each record as KoBo gave it, and the instance made of it
            payload = session.scalars(
                select(KoboPayload).join(KoboRecord).where(KoboRecord.kobo_id == record["_id"])
            ).one()
            assert json.loads(payload.body) == record
            version = session.get(SubmissionVersion, payload.version_id)
            assert version is not None
            assert flatten_instance(version.xml, {"dec"}) == answers_of(record)
    [run] = _runs(app)
    assert (run.status, run.pages, run.created_count, run.watermark_from, run.watermark_to) == (
        SyncStatus.SUCCEEDED,
        3,
        5,
        None,
        21,
    )


def test_incremental_sync_takes_only_what_is_new(app: Flask, kobo_server: FakeKobo, mini_asset: FakeAsset) -> None:
    asset_id = _configure(app, kobo_server)
    _sync(app, asset_id)
    before = len(kobo_server.data_requests(UID))
    mini_asset.records += [_record(30), _record(31), _record(32)]
    report = _sync(app, asset_id)
    assert (report.created, report.edited, report.unchanged, report.deleted) == (3, 0, 0, 0)
    assert report.form_imported is None  # the deployed version did not change
    data = kobo_server.data_requests(UID)[before:]
    assert json.loads(data[0]["query"]) == {"_id": {"$gt": 21}}
    assert json.loads(data[0]["sort"]) == {"_id": 1}
    assert _count(app, Submission) == 8
    assert _runs(app)[-1].watermark_to == 32
    again = _sync(app, asset_id)
    assert (again.created, again.edited, again.unchanged, again.pages) == (0, 0, 0, 0)


def test_an_interrupted_sync_resumes_without_duplicates(
    app: Flask, kobo_server: FakeKobo, mini_asset: FakeAsset
) -> None:
    asset_id = _configure(app, kobo_server)
    kobo_server.fail = lambda request: 500 if request.args.get("start") == "4" else None  # the 3rd page breaks
    with pytest.raises(KoboSyncError, match="500"):
        _sync(app, asset_id)
    [failed] = _runs(app)
    assert (failed.status, failed.pages, failed.created_count, failed.watermark_to) == (SyncStatus.FAILED, 2, 4, 20)
    assert failed.error and "500" in failed.error
    assert _count(app, Submission) == 4  # the two stored pages stay stored

    kobo_server.fail = None
    before = len(kobo_server.data_requests(UID))
    report = _sync(app, asset_id)
    assert (report.created, report.unchanged, report.errors) == (1, 0, 0)
    resumed = kobo_server.data_requests(UID)[before]
    assert json.loads(resumed["query"]) == {"_id": {"$gt": 20}}  # from the watermark of the last stored page
    assert _count(app, Submission) == 5
    assert _count(app, SubmissionVersion) == 5
    assert _count(app, KoboPayload) == 5
    assert _count(app, KoboRecord) == 5


def test_a_killed_sync_is_taken_over_and_a_running_one_is_not_doubled(
    app: Flask, kobo_server: FakeKobo, mini_asset: FakeAsset
) -> None:
    asset_id = _configure(app, kobo_server)
    with app.app_context(), transaction(write=True) as session:
        session.add(KoboSyncRun(asset_id=asset_id, status=SyncStatus.RUNNING))
    with pytest.raises(ConflictError, match="another run"):
        _sync(app, asset_id)
    report = _sync(app, asset_id, force=True)
    assert report.created == 5
    assert [r.status for r in _runs(app)] == [SyncStatus.INTERRUPTED, SyncStatus.SUCCEEDED]


def test_edits_and_deletions_in_kobo_are_applied(app: Flask, kobo_server: FakeKobo, mini_asset: FakeAsset) -> None:
    asset_id = _configure(app, kobo_server)
    _sync(app, asset_id)
    original = mini_asset.records[1]
    mini_asset.edit(12, edited(original, {"sales": "4321"}))
    mini_asset.delete(15)
    report = _sync(app, asset_id)
    assert (report.created, report.edited, report.deleted, report.errors) == (0, 1, 1, 0)
    with app.app_context(), transaction() as session:
        edited_record = session.scalars(select(KoboRecord).where(KoboRecord.kobo_id == 12)).one()
        assert edited_record.current_uuid == mini_asset.records[1]["meta/instanceID"]
        submission = session.get(Submission, edited_record.submission_id)
        assert submission is not None
        assert submission.instance_id == original["meta/instanceID"]
        versions = session.scalars(
            select(SubmissionVersion).where(SubmissionVersion.submission_id == submission.id)
        ).all()
        assert [v.deprecated_id for v in versions] == [None, original["meta/instanceID"]]
        observation = session.scalars(
            select(FirmObservation).where(FirmObservation.submission_id == submission.id)
        ).one()
        assert observation.sales_value == Decimal("4321.00")

        deleted = session.scalars(select(KoboRecord).where(KoboRecord.kobo_id == 15)).one()
        gone = session.get(Submission, deleted.submission_id)
        assert gone is not None and gone.deleted_at is not None and deleted.deleted_at is not None
        assert session.scalar(select(FirmObservation).where(FirmObservation.submission_id == gone.id)) is None
        assert session.scalar(select(UpgradingDecision).where(UpgradingDecision.firm_id == gone.firm_id)) is None
        raw = session.scalars(select(KoboPayload).where(KoboPayload.record_id == deleted.id)).all()
        assert len(raw) == 1 and raw[0].body  # the raw data are kept
        assert session.scalar(select(func.count()).select_from(FirmObservation)) == 4
    again = _sync(app, asset_id)  # nothing left to do
    assert (again.created, again.edited, again.deleted) == (0, 0, 0)


def test_real_kobo_data_pages_sync_with_their_asset_form(app: Flask, kobo_server: FakeKobo) -> None:
    """The Arboles asset and records of kf.kobotoolbox.org (fixtures), incl. an edited one, through the sync."""
    info = load_json(ARBOLES / "asset.json")
    form = kpi_content_form(info["content"]["survey"], info["content"]["choices"], info["uid"])
    records = load_json(ARBOLES / "data_page1.json")["results"] + load_json(ARBOLES / "data_page2.json")["results"]
    asset = kobo_server.add(FakeAsset(info["uid"], info["name"], xlsx(form), "vLnrnT6Pvzgeh4DVfj6eDz", records=records))
    photos = {}  # these 2021 records name their files by a numeric id, on another host than the API's
    for record in records:
        [listed] = record["_attachments"]
        photos[record["_id"]] = f"photo of tree {record['_id']}".encode()
        asset.attach(record["_id"], str(listed["id"]), photos[record["_id"]])
    asset_id = _configure(app, kobo_server, info["uid"])
    report = _sync(app, asset_id)
    assert (report.created, report.errors, report.watermark, report.files) == (3, 0, 125340283, 3)
    with app.app_context(), transaction() as session:
        for record in records:
            kobo_row = session.scalars(select(KoboRecord).where(KoboRecord.kobo_id == record["_id"])).one()
            submission = session.get(Submission, kobo_row.submission_id)
            assert submission is not None and submission.current_version is not None
            assert submission.processing_status is ProcessingStatus.NOT_MAPPED  # the form declares no mapping
            assert flatten_instance(submission.current_version.xml) == answers_of(record)
            assert submission.current_version.deprecated_id == record.get("meta/deprecatedID")
            assert kobo_row.submitted_by == record["_submitted_by"]
            [photo] = submission.current_version.attachments
            assert photo.name == record["Take_a_photo_of_this_tree"]
            assert (photo.sha256, photo.size) == (
                hashlib.sha256(photos[record["_id"]]).hexdigest(),
                len(photos[record["_id"]]),
            )
            assert photo.content_type == "image/jpeg"
            with app.extensions["blobs"].open(photo.sha256) as stored:
                assert stored.read() == photos[record["_id"]]
    assert sorted(p for p, _ in kobo_server.log if "/attachments/" in p) == sorted(  # KPI's path, numeric ids
        f"/api/v2/assets/{info['uid']}/data/{r['_id']}/attachments/{r['_attachments'][0]['id']}/" for r in records
    )


def test_undeployed_changes_are_not_imported_as_the_form(
    app: Flask, kobo_server: FakeKobo, mini_asset: FakeAsset
) -> None:
    mini_asset.version_id = "vDraftNotDeployed00001"
    asset_id = _configure(app, kobo_server)
    with pytest.raises(KoboSyncError, match="not deployed"):
        _sync(app, asset_id)
    assert _count(app, Form) == 0


def test_a_missing_token_or_a_wrong_one_fails_clearly(app: Flask, kobo_server: FakeKobo, mini_asset: FakeAsset) -> None:
    asset_id = _configure(app, kobo_server)
    with pytest.raises(KoboSyncError, match="KOBO_TOKEN"):
        kobo_sync.sync_asset(app.extensions["sessionmaker"], asset_id, environ={})
    with pytest.raises(KoboSyncError, match=r"401.*API token"):
        kobo_sync.sync_asset(app.extensions["sessionmaker"], asset_id, environ={"KOBO_TOKEN": "wrong"})
    assert [r.status for r in _runs(app)] == [SyncStatus.FAILED, SyncStatus.FAILED]


def test_requests_are_rate_limited(kobo_server: FakeKobo, mini_asset: FakeAsset) -> None:
    client = KoboClient(kobo_server.base, "kobo-test-token", max_requests_per_second=20)
    started = time.monotonic()
    pages = list(client.pages(f"/api/v2/assets/{UID}/data/", {"limit": 1}))
    elapsed = time.monotonic() - started
    client.close()
    assert len(pages) == 5
    assert elapsed >= 4 / 20


def test_next_links_to_another_server_are_not_followed(kobo_server: FakeKobo, mini_asset: FakeAsset) -> None:
    client = KoboClient(kobo_server.base, "kobo-test-token")
    pages = client.pages(f"/api/v2/assets/{UID}/data/", {"limit": 2})
    next(pages)
    kobo_server.base = "http://evil.example.org"
    with pytest.raises(KoboApiError, match="another server"):
        list(client.pages(f"/api/v2/assets/{UID}/data/", {"limit": 2}))
    client.close()


def test_cli_sync_configures_reports_progress_and_resyncs(
    app: Flask, kobo_server: FakeKobo, mini_asset: FakeAsset, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KOBO_TOKEN", "kobo-test-token")
    runner = app.test_cli_runner()
    args = ["kobo", "sync", "--server", kobo_server.base, "--asset", UID, "--token-env", "KOBO_TOKEN"]
    result = runner.invoke(args=[*args, "--page-size", "2", "--max-requests-per-second", "100"])
    assert result.exit_code == 0, result.output
    assert "new     pages    3: 5 new" in result.output
    assert f"Synced {UID}: 5 new, 0 edited" in result.output
    listed = runner.invoke(args=["kobo", "assets", "list"])
    assert UID in listed.output and "_id>21" in listed.output and "$KOBO_TOKEN" in listed.output
    mini_asset.delete(20)
    every = runner.invoke(args=["kobo", "sync", "--all"])
    assert every.exit_code == 0, every.output
    assert "1 deleted" in every.output
    monkeypatch.delenv("KOBO_TOKEN")
    failing = runner.invoke(args=["kobo", "sync", "--server", kobo_server.base, "--asset", UID])
    assert failing.exit_code == 1
    assert "KOBO_TOKEN" in failing.output and "run again to resume" in failing.output


def test_a_record_that_cannot_be_stored_is_reported_and_does_not_stop_the_sync(
    app: Flask, kobo_server: FakeKobo, mini_asset: FakeAsset
) -> None:
    mini_asset.records[2] = {**mini_asset.records[2], "bad key": "x"}
    asset_id = _configure(app, kobo_server)
    report = _sync(app, asset_id)
    assert (report.created, report.errors, report.watermark) == (4, 1, 21)
    last = _runs(app)[-1]
    assert last.status is SyncStatus.SUCCEEDED
    assert last.problems == [
        {"_id": "15", "message": "'bad key' is not a question path ('bad key' cannot be an element name)."}
    ]
    # KoBo still lists it, so every later run tries it again (and says so) until it can be stored
    mini_asset.records[2] = _record(15)
    again = _sync(app, asset_id)
    assert (again.created, again.errors) == (1, 0)
    assert _count(app, Submission) == 5
