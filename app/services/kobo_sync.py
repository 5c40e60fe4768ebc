"""Pulling KoboToolbox projects (assets) through the KPI API v2: ``sync_asset`` for one, ``sync_all`` for each.

A run, for one asset (../shared/docs/kobo.md §2; docs/kobo-integration.md):
1. **form**: when the asset's deployed version changed, its XLSForm (``/api/v2/assets/{uid}.xls``) is published
   through the forms service, so the form's declared mapping applies; records are filed under the form version
   their ``__version__`` was imported as;
2. **new records**: ``/data/?query={"_id": {"$gt": <watermark>}}&sort={"_id": 1}``, following ``next``; each page
   is stored in one transaction that also advances the watermark, so a run stopped anywhere resumes after the
   last stored page and stores nothing twice (and storing is idempotent anyway);
3. **edits and deletions**: KoBo keeps ``_id`` on edit and changes ``_uuid``, and deletes for good; a cheap
   listing of every ``_id``/``_uuid`` shows which records changed (fetched again and stored as new versions),
   which we lack (fetched), and which are gone (marked deleted, their derived rows removed, raw data kept).

``sync_asset`` and ``sync_all`` are the boundary (what a CLI command or a periodic job calls): they take a
session factory and commit page by page. Everything below them takes a Session and does not commit.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from app.config import load_settings
from app.db import utcnow
from app.errors import ConflictError, DomainError, InvalidError, NotFoundError
from app.ingest.kobo import KoboRecordError
from app.models import (
    Form,
    FormState,
    KoboAsset,
    KoboFormVersion,
    KoboRecord,
    KoboSource,
    KoboSyncRun,
    SyncStatus,
)
from app.services import forms, kobo, kobo_attachments
from app.services.blobs import BlobStore, Claims
from app.services.kobo import JSON_TYPE, Delivery, Outcome
from app.services.kobo_client import KoboApiError, KoboClient
from app.services.submissions import IncomingFile

log = logging.getLogger(__name__)
SessionFactory = Callable[[], Session]
PAGE_SIZE = 1000  # KPI's maximum (kobo.md §2.3); larger limits are silently capped
FILES_PER_TRANSACTION = 200  # claimed files (open descriptors) a write transaction of the sync waits for at most
FETCH_BATCH = 100  # records asked for by _id at once when edits or gaps are found
DELETE_BATCH = 200
MAX_PROBLEMS = 20
STALE_RUN = dt.timedelta(minutes=15)  # a "running" run without a heartbeat for this long was killed
UID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


class KoboSyncError(DomainError):
    """The run could not complete; what it stored before stays stored, and the next run goes on from there."""

    status = 502


@dataclass(frozen=True)
class Progress:
    phase: str  # "form", "new", "check", "deleted"
    pages: int
    created: int
    edited: int
    unchanged: int
    deleted: int
    errors: int
    watermark: int | None
    files: int = 0


@dataclass(frozen=True)
class SyncReport:
    run_id: int
    asset_uid: str
    status: SyncStatus
    pages: int
    requests: int
    created: int
    edited: int
    unchanged: int
    deleted: int
    errors: int
    watermark: int | None
    form_imported: str | None
    files: int = 0


# -- asset configuration ---------------------------------------------------------------------------------------


def normalise_server(url: str) -> str:
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")) or len(url) > 255:
        raise InvalidError(f"The KoBo server URL must start with https:// (or http://), got '{url}'.")
    return url


def add_asset(
    session: Session,
    server_url: str,
    asset_uid: str,
    token_env: str,
    *,
    form_id: str | None = None,
    import_form: bool | None = None,
) -> KoboAsset:
    """Configure an asset to pull. Without ``form_id`` its deployed XLSForm is imported as the form."""
    server_url = normalise_server(server_url)
    if not UID.match(asset_uid):
        raise InvalidError(f"'{asset_uid}' is not a KoBo asset uid (letters and digits, e.g. aXPSbtQcYDm8mcJuVZTUhW).")
    if not ENV_NAME.match(token_env):
        raise InvalidError(f"'{token_env}' is not an environment variable name.")
    existing = find_asset(session, server_url, asset_uid)
    if existing is not None:
        raise ConflictError(f"Asset {asset_uid} on {server_url} is already configured.")
    form = forms.get_form(session, form_id) if form_id else None
    asset = KoboAsset(
        server_url=server_url,
        asset_uid=asset_uid,
        token_env=token_env,
        form_pk=form.id if form else None,
        import_form=form is None if import_form is None else import_form,
    )
    session.add(asset)
    session.flush()
    return asset


def find_asset(session: Session, server_url: str, asset_uid: str) -> KoboAsset | None:
    return session.scalar(
        select(KoboAsset).where(KoboAsset.server_url == normalise_server(server_url), KoboAsset.asset_uid == asset_uid)
    )


def list_assets(session: Session) -> Sequence[KoboAsset]:
    return session.scalars(select(KoboAsset).order_by(KoboAsset.server_url, KoboAsset.asset_uid)).all()


def set_active(session: Session, asset_id: int, *, active: bool) -> KoboAsset:
    asset = session.get(KoboAsset, asset_id)
    if asset is None:
        raise NotFoundError(f"There is no KoBo asset {asset_id}.")
    asset.active = active
    return asset


# -- the run ---------------------------------------------------------------------------------------------------


@contextmanager
def _writing(session_factory: SessionFactory) -> Iterator[Session]:
    """One write transaction, committed at the end (SQLite's write lock taken up front)."""
    with session_factory() as session, session.begin():
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        yield session


class _Run:
    """Counters of one run, written to its row with every page (the API and a resumed run read them)."""

    def __init__(self, run_id: int, asset_id: int, watermark: int | None) -> None:
        self.id, self.asset_id, self.watermark = run_id, asset_id, watermark
        self.requests = self.pages = self.created = self.edited = self.unchanged = self.deleted = self.errors = 0
        self.files = 0  # attachments downloaded and stored
        self.problems: list[dict[str, str]] = []
        self.failed: set[object] = set()  # _ids not stored in this run: not asked for again until the next one
        self.files_failed: set[object] = set()  # _ids whose files failed in this run: retried by the next one
        self.form_imported: str | None = None

    def count(self, outcome: Outcome) -> None:
        if outcome is Outcome.CREATED:
            self.created += 1
        elif outcome in {Outcome.EDITED, Outcome.RESTORED}:
            self.edited += 1
        else:
            self.unchanged += 1

    def problem(self, kobo_id: object, message: str, *, file: bool = False) -> None:
        """A record not stored (not asked for again in this run), or a file of a stored record not fetched (its slot
        stays empty; the record is not asked for again for its files in this run)."""
        self.errors += 1
        (self.files_failed if file else self.failed).add(kobo_id)
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append({"_id": str(kobo_id), "message": message[:500]})

    def save(self, session: Session, status: SyncStatus | None = None, error: str | None = None) -> None:
        row = session.get(KoboSyncRun, self.id)
        asset = session.get(KoboAsset, self.asset_id)
        assert row is not None  # noqa: S101 - created by _start
        assert asset is not None  # noqa: S101
        row.requests, row.pages, row.watermark_to = self.requests, self.pages, self.watermark
        row.created_count, row.edited_count, row.unchanged_count = self.created, self.edited, self.unchanged
        row.deleted_count, row.error_count, row.problems = self.deleted, self.errors, list(self.problems)
        row.file_count = self.files
        row.form_imported = self.form_imported
        row.heartbeat_at = utcnow()
        asset.watermark_id = self.watermark
        if status is not None:
            row.status, row.finished_at, row.error = status, row.heartbeat_at, error
            if status is SyncStatus.SUCCEEDED:
                asset.last_success_at = row.heartbeat_at

    def _counts(self) -> dict[str, Any]:
        """What a progress note and the final report both tell."""
        return {
            "pages": self.pages,
            "created": self.created,
            "edited": self.edited,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "errors": self.errors,
            "watermark": self.watermark,
            "files": self.files,
        }

    def progress(self, phase: str) -> Progress:
        return Progress(phase, **self._counts())

    def report(self, uid: str, status: SyncStatus) -> SyncReport:
        return SyncReport(
            self.id, uid, status, requests=self.requests, form_imported=self.form_imported, **self._counts()
        )


@dataclass(frozen=True)
class _Asset:
    id: int
    server_url: str
    uid: str
    token_env: str
    import_form: bool
    deployed_version_id: str | None
    form_pk: int | None

    @property
    def data_path(self) -> str:
        return f"/api/v2/assets/{self.uid}/data/"


def _start(session_factory: SessionFactory, asset_id: int, *, force: bool) -> tuple[_Asset, _Run]:
    with _writing(session_factory) as session:
        asset = session.scalars(select(KoboAsset).where(KoboAsset.id == asset_id).with_for_update()).one_or_none()
        if asset is None:
            raise NotFoundError(f"There is no KoBo asset {asset_id}.")
        now = utcnow()
        for running in session.scalars(
            select(KoboSyncRun).where(KoboSyncRun.asset_id == asset_id, KoboSyncRun.status == SyncStatus.RUNNING)
        ):
            if not force and now - _utc(running.heartbeat_at) < STALE_RUN:
                raise ConflictError(
                    f"Asset {asset.asset_uid} is being synced by another run (started {running.started_at:%H:%M} "
                    "UTC). Wait for it, or use --force if it was killed."
                )
            running.status, running.finished_at = SyncStatus.INTERRUPTED, now
            running.error = running.error or "stopped without finishing (the process ended)"
        row = KoboSyncRun(asset_id=asset_id, status=SyncStatus.RUNNING, started_at=now, heartbeat_at=now)
        row.watermark_from = row.watermark_to = asset.watermark_id
        session.add(row)
        session.flush()
        snapshot = _Asset(
            asset.id,
            asset.server_url,
            asset.asset_uid,
            asset.token_env,
            asset.import_form,
            asset.deployed_version_id,
            asset.form_pk,
        )
        return snapshot, _Run(row.id, asset.id, asset.watermark_id)


def _token(environ: Mapping[str, str], name: str) -> str:
    token = environ.get(name)
    if not token:
        raise KoboSyncError(f"The environment variable {name} (the KoBo API token) is not set.")
    return token


@dataclass(frozen=True)
class _Context:
    session_factory: SessionFactory
    client: KoboClient
    asset: _Asset
    form_pk: int
    run: _Run
    notify: Callable[[Progress], None]
    blobs: BlobStore
    max_file_bytes: int

    def store_page(self, records: list[Any], phase: str) -> None:
        """Store a page's records with their files: each record's files are downloaded (fsynced, claimed) first,
        then the records stored in one transaction, or in several once FILES_PER_TRANSACTION files are waiting
        (each claimed file holds a descriptor open until its transaction ends). Records come in ``_id`` order,
        so each transaction moves the watermark past what it stored and no further."""
        if not records:  # nothing new: no transaction
            return
        ids = [r["_id"] for r in records if isinstance(r, dict) and isinstance(r.get("_id"), int)]
        with self.session_factory() as session:
            slots = kobo_attachments.held(session, self.form_pk, ids)
        batch: list[Any] = []
        files: dict[object, dict[str, IncomingFile]] = {}
        claims = Claims()
        for position, record in enumerate(records):
            if isinstance(record, dict):
                try:
                    got = self._files_of(record, slots.get(record.get("_id")), claims)
                except BaseException:
                    claims.discard()
                    raise
                if got:
                    files[record.get("_id")] = got
            batch.append(record)
            last = position == len(records) - 1
            if last or len(claims) >= FILES_PER_TRANSACTION:
                self._store(batch, files, claims, count_page=last)
                batch, files, claims = [], {}, Claims()
        self.notify(self.run.progress(phase))

    def _files_of(
        self, record: dict[str, Any], slots: kobo_attachments.Slots | None, claims: Claims
    ) -> dict[str, IncomingFile]:
        kobo_id = record.get("_id")
        wanted, problems = kobo_attachments.remote_files(record, self.asset.uid, self.client, slots)
        got, failed = kobo_attachments.fetch(self.client, self.blobs, claims, wanted, self.max_file_bytes)
        for message in problems + failed:
            self.run.problem(kobo_id, message, file=True)
        return got

    def _store(
        self, records: list[Any], files: dict[object, dict[str, IncomingFile]], claims: Claims, *, count_page: bool
    ) -> None:
        """One write transaction. Its files are removed if it certainly did not commit; once the COMMIT was sent
        they stay, whatever happens (at worst unreferenced, never a stored row without its file)."""
        committing = False
        try:
            with _writing(self.session_factory) as session:
                _store_page(session, _open_form(session, self.form_pk), self.asset, self.run, records, files)
                self.run.pages += count_page
                self.run.save(session)  # the watermark moves in the same transaction
                committing = True  # from here on, whether it committed is the database's answer
        except BaseException:
            if committing:
                claims.release()
            else:
                claims.discard()
            raise
        claims.release()


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


def sync_asset(
    session_factory: SessionFactory,
    asset_id: int,
    *,
    blobs: BlobStore | None = None,
    environ: Mapping[str, str] | None = None,
    max_requests_per_second: float | None = None,
    page_size: int = PAGE_SIZE,
    progress: Callable[[Progress], None] | None = None,
    force: bool = False,
    retry_backoff: float = 2.0,
    max_file_bytes: int | None = None,
) -> SyncReport:
    """Pull one configured asset: form, new records, edits and deletions. Safe to run again at any time.

    Meant for ``flask kobo sync`` and for a periodic job (e.g. ``sync_all`` every 15 minutes). The API token is
    read from the environment variable the asset names (``environ``, default ``os.environ``). Commits a page at a
    time. Records' files are downloaded into ``blobs`` (default: MEDIA_ROOT's), each at most ``max_file_bytes``
    (default: the upload limit). Returns the run's report; raises KoboSyncError (after recording it on the run)
    when the run failed, and ConflictError when another run of the same asset is in progress.
    """
    asset, run = _start(session_factory, asset_id, force=force)
    notify = progress or (lambda _p: None)
    env = os.environ if environ is None else environ
    try:
        token = _token(env, asset.token_env)

        def counted() -> None:
            run.requests += 1

        client = KoboClient(
            asset.server_url,
            token,
            max_requests_per_second=max_requests_per_second,
            backoff=retry_backoff,
            on_request=counted,
        )
        try:
            if blobs is None or max_file_bytes is None:
                settings = load_settings()
                blobs = blobs or BlobStore(settings.media_root)
                max_file_bytes = max_file_bytes or settings.max_upload_bytes
            form_pk = _import_form(session_factory, client, asset, run, blobs)
            notify(run.progress("form"))
            context = _Context(session_factory, client, asset, form_pk, run, notify, blobs, max_file_bytes)
            _new_records(context, page_size)
            _check_all(context)
        finally:
            client.close()
    except BaseException as exc:
        status = SyncStatus.FAILED if isinstance(exc, Exception) else SyncStatus.INTERRUPTED
        message = exc.message if isinstance(exc, DomainError) else str(exc) or type(exc).__name__
        try:
            with _writing(session_factory) as session:
                run.save(session, status, message)
        except Exception:
            log.exception("could not record the end of KoBo sync run %s", run.id)
        if isinstance(exc, DomainError | KoboApiError | KoboRecordError):
            raise KoboSyncError(f"Sync of {asset.uid} failed: {message}") from exc
        raise
    with _writing(session_factory) as session:
        run.save(session, SyncStatus.SUCCEEDED)
    notify(run.progress("done"))
    return run.report(asset.uid, SyncStatus.SUCCEEDED)


def sync_all(session_factory: SessionFactory, **options: Any) -> list[tuple[KoboAsset | int, SyncReport | Exception]]:
    """Every active asset, one after the other; a failure of one does not stop the others."""
    with session_factory() as session:
        ids = list(session.scalars(select(KoboAsset.id).where(KoboAsset.active.is_(True)).order_by(KoboAsset.id)))
    results: list[tuple[KoboAsset | int, SyncReport | Exception]] = []
    for asset_id in ids:
        try:
            results.append((asset_id, sync_asset(session_factory, asset_id, **options)))
        except (KoboSyncError, ConflictError) as exc:
            log.warning("KoBo sync of asset %s: %s", asset_id, exc)
            results.append((asset_id, exc))
    return results


# -- 1. the form -------------------------------------------------------------------------------------------------


def _import_form(
    session_factory: SessionFactory, client: KoboClient, asset: _Asset, run: _Run, blobs: BlobStore
) -> int:
    """The form records are stored under: the asset's deployed XLSForm, published when it changed."""
    if not asset.import_form:
        if asset.form_pk is None:
            raise KoboSyncError("The asset has no form: configure it with --form, or let it import its own.")
        return asset.form_pk
    info = client.json(f"/api/v2/assets/{asset.uid}/", {"format": "json"})
    deployed = info.get("deployed_version_id")
    if info.get("has_deployment") is False or not isinstance(deployed, str) or not deployed:
        raise KoboSyncError(f"KoBo project {asset.uid} is not deployed: there is no form to collect with.")
    name = info.get("name") if isinstance(info.get("name"), str) else None
    if deployed == asset.deployed_version_id and asset.form_pk is not None:
        _save_asset(session_factory, asset.id, name=name)
        return asset.form_pk
    latest = info.get("version_id")
    if isinstance(latest, str) and latest != deployed:
        # /{uid}.xls renders the latest version, not the deployed one (kobo.md §2.2): do not publish an undeployed form
        message = (
            f"KoBo project {asset.uid} has changes that are not deployed (version {latest}, deployed {deployed}); "
            "its XLSForm is not the deployed form, so it was not imported. Redeploy it in KoBo."
        )
        if asset.form_pk is None:
            raise KoboSyncError(message)
        run.problem("form", message)
        return asset.form_pk
    xls = client.get(f"/api/v2/assets/{asset.uid}.xls").content
    with _writing(session_factory) as session:
        try:
            published = forms.publish(session, blobs, f"{asset.uid}.xlsx", xls)
        except DomainError as exc:
            if asset.form_pk is None:
                raise KoboSyncError(f"KoBo project {asset.uid}'s form cannot be published: {exc.message}") from exc
            run.problem("form", f"The deployed form was not imported: {exc.message}")
            return asset.form_pk
        form, version = published.form, published.version
        if session.get(KoboFormVersion, (form.id, deployed)) is None:
            session.add(KoboFormVersion(form_pk=form.id, kpi_version=deployed, form_version_id=version.id))
        row = session.get(KoboAsset, asset.id)
        assert row is not None  # noqa: S101
        row.form_pk, row.deployed_version_id, row.name = form.id, deployed, name or row.name
        run.form_imported = f"{form.form_id} {version.version or '(no version)'}"
        run.save(session)
        return form.id


def _save_asset(session_factory: SessionFactory, asset_id: int, *, name: str | None) -> None:
    if name is None:
        return
    with _writing(session_factory) as session:
        row = session.get(KoboAsset, asset_id)
        if row is not None and row.name != name:
            row.name = name


# -- 2. new records ----------------------------------------------------------------------------------------------


def _store_page(  # noqa: PLR0917 - a page and where it goes
    session: Session,
    form: Form,
    asset: _Asset,
    run: _Run,
    records: list[Any],
    files: Mapping[object, Mapping[str, IncomingFile]],
) -> None:
    """Every record of a page, each in a savepoint: one bad record is reported, not the page lost."""
    for record in records:
        kobo_id = record.get("_id") if isinstance(record, dict) else None
        if not isinstance(record, dict):
            run.problem("?", "a result that is not a JSON object")
            continue
        delivery = Delivery(
            body=json.dumps(record, ensure_ascii=False).encode(),
            content_type=JSON_TYPE,
            source=KoboSource.SYNC,
            asset_id=asset.id,
            user_agent="KoBo sync",
        )
        for attempt in range(2):
            savepoint = session.begin_nested()
            record_files = files.get(kobo_id, {})
            try:
                stored = kobo.store(session, form, delivery, files=record_files)
            except IntegrityError:  # a hook delivered the same record at this moment: look again
                savepoint.rollback()
                if attempt == 1:
                    run.problem(kobo_id, "stored concurrently by another delivery; will be checked next run")
                continue
            except (KoboRecordError, DomainError) as exc:
                savepoint.rollback()
                run.problem(kobo_id, exc.message if isinstance(exc, DomainError) else str(exc))
                break
            except DataError:
                savepoint.rollback()
                run.problem(kobo_id, "a value the database cannot store (too long or out of range)")
                break
            savepoint.commit()
            run.count(stored.outcome)
            run.files += stored.files
            break
        if isinstance(kobo_id, int) and not isinstance(kobo_id, bool):
            run.watermark = max(run.watermark or 0, kobo_id)


def _open_form(session: Session, form_pk: int) -> Form:
    form = session.get(Form, form_pk)
    if form is None:
        raise KoboSyncError("The asset's form does not exist any more.")
    if form.state is not FormState.OPEN:
        raise KoboSyncError(f"The form '{form.form_id}' is closed; open it to sync (flask forms open).")
    return form


def _new_records(context: _Context, page_size: int) -> None:
    with context.session_factory() as session:
        _open_form(session, context.form_pk)
    params: dict[str, Any] = {"format": "json", "limit": page_size, "sort": json.dumps({"_id": 1})}
    if context.run.watermark is not None:
        params["query"] = json.dumps({"_id": {"$gt": context.run.watermark}})
    for page in context.client.pages(context.asset.data_path, params):
        context.store_page(page["results"], "new")


# -- 3. edits, gaps and deletions ---------------------------------------------------------------------------------


def _bare(uuid: str | None) -> str:
    return (uuid or "").removeprefix("uuid:")


def _check_all(context: _Context) -> None:
    asset, run = context.asset, context.run
    remote: dict[int, str] = {}
    params = {"format": "json", "limit": PAGE_SIZE, "sort": json.dumps({"_id": 1}), "fields": '["_id", "_uuid"]'}
    for page in context.client.pages(asset.data_path, params):
        for item in page["results"]:
            if isinstance(item, dict) and isinstance(item.get("_id"), int):
                remote[item["_id"]] = str(item.get("_uuid") or "")
    with context.session_factory() as session:
        mine = select(KoboRecord.kobo_id, KoboRecord.current_uuid, KoboRecord.deleted_at, KoboRecord.id).where(
            KoboRecord.form_pk == context.form_pk,
            KoboRecord.kobo_id.is_not(None),
            or_(KoboRecord.asset_id == asset.id, KoboRecord.asset_id.is_(None)),
        )
        local = {row[0]: row for row in session.execute(mine)}
        lacking = set(session.scalars(kobo_attachments.lacking(context.form_pk)))
    refetch = [
        kobo_id
        for kobo_id, uuid in remote.items()
        if kobo_id not in run.failed
        and (
            kobo_id not in local
            or local[kobo_id][2] is not None
            or _bare(local[kobo_id][1]) != _bare(uuid)
            or (kobo_id in lacking and kobo_id not in run.files_failed)
        )
    ]
    for start in range(0, len(refetch), FETCH_BATCH):
        batch = refetch[start : start + FETCH_BATCH]
        query = {"format": "json", "limit": PAGE_SIZE, "query": json.dumps({"_id": {"$in": batch}})}
        for page in context.client.pages(asset.data_path, query):
            context.store_page(page["results"], "check")
    gone = [row[3] for kobo_id, row in local.items() if kobo_id not in remote and row[2] is None]
    if gone and not remote:
        run.problem("-", "KoBo listed no records at all; deletions were not applied (check the token's permissions).")
        return
    for start in range(0, len(gone), DELETE_BATCH):
        with _writing(context.session_factory) as session:
            batch_ids = gone[start : start + DELETE_BATCH]
            for record in session.scalars(select(KoboRecord).where(KoboRecord.id.in_(batch_ids))):
                kobo.mark_deleted(session, record)
                run.deleted += 1
            run.save(session)
        context.notify(run.progress("deleted"))
