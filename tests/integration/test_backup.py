"""`flask backup` / `flask restore`: real data round-trips exactly, damage and misuse are refused cleanly.

Expectations come from the source database and server themselves: every table's rows (ordered by key), every
blob's bytes, what the OpenRosa endpoints serve.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import tarfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from alembic import command
from defusedxml import ElementTree
from flask import Flask
from sqlalchemy import Engine, MetaData, make_url, select, text

from app import create_app
from app.cli.migrate import alembic_config
from app.config import Settings, load_settings
from app.db import engine_of, transaction
from app.ingest.catalogue import read_catalogue
from app.services import backup, rounds
from app.services.backup.manifest import MANIFEST_NAME
from app.services.blobs import BlobStore
from app.services.catalogue import load_catalogue
from app.vocab import RoundKind
from tests import conftest
from tests.conftest import ROOT
from tests.helpers import Factory, MadeUser, submit
from tests.live import gunicorn

XF = "{http://openrosa.org/xforms/xformsList}"
MF = "{http://openrosa.org/xforms/xformsManifest}"
Rows = dict[str, list[tuple[Any, ...]]]


# --- where the restore goes: a second, empty database (no tables at all) with its own media folder ---------------


@pytest.fixture
def target(request: pytest.FixtureRequest, test_database: conftest.TestDatabase, tmp_path: Path) -> Iterator[Flask]:
    server = request.config.getoption("--database-url")
    name = f"chainlift_restore_{uuid.uuid4().hex[:10]}"
    admin = make_url(server).set(drivername="postgresql").render_as_string(hide_password=False) if server else ""
    if test_database.is_postgres:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = make_url(server).set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    app = _app(url, tmp_path / "restored")
    yield app
    engine_of(app).dispose()
    if test_database.is_postgres:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _app(database_url: str, folder: Path) -> Flask:
    settings = load_settings(
        {
            "DATABASE_URL": database_url,
            "CHAINLIFT_INSTANCE_PATH": str(folder / "instance"),
            "MEDIA_ROOT": str(folder / "media"),
            "SECRET_KEY": "restore-" + uuid.uuid4().hex,
        }
    )
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


# --- real data: the MSE survey with a demo panel and its indicators, forms with media, attachments, an edit ------


def load_real_data(app: Flask, odk: Path) -> MadeUser:
    factory = Factory(app)
    with app.app_context(), transaction(write=True) as session:
        load_catalogue(session, read_catalogue((ROOT / "forms" / "catalogue.yaml").read_text()))
        rounds.create_round(session, "R0", 0, RoundKind.BASELINE, name="Baseline")
    factory.publish(ROOT / "forms" / "mse_survey.xlsx")
    runner = app.test_cli_runner()
    demo = ["demo", "generate", "--chains", "2", "--firms", "10", "--spread", "0", "--rounds", "2", "--load"]
    for args in (demo, ["indicators", "compute"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    return load_attachments(app, odk)


def load_attachments(app: Flask, odk: Path) -> MadeUser:
    """Forms with media, and submissions with attachments: over two POSTs, carried by an edit, one missing."""
    factory = Factory(app)
    factory.publish(odk / "forms/binaryType.xml")
    factory.publish(
        odk / "forms/withAttachments.xml", media={"goodone.csv": b"name,label\na,A\n", "goodtwo.mp3": b"ID3"}
    )
    user = factory.user("amina")
    client = app.test_client()
    both = (odk / "instances/binaryType/both.xml").read_bytes()
    mp4, jpg = (odk / "attachments/my_file1.mp4").read_bytes(), (odk / "attachments/here_is_file2.jpg").read_bytes()
    posts = [
        (both, {"my_file1.mp4": mp4}, {"*isIncomplete*": "yes"}),  # the rest arrives in a second POST
        (both, {"here_is_file2.jpg": jpg}, {}),
        ((odk / "edits/binaryType-both-to-both2.xml").read_bytes(), {}, {}),  # an edit keeps both files
        ((odk / "instances/binaryType/one.xml").read_bytes(), {}, {}),  # its file never arrives: sha256 NULL
    ]
    for xml, files, extra in posts:
        assert submit(client, user.prefix, xml, files, extra=extra).status_code == 201
    return user


# --- what is compared ---------------------------------------------------------------------------------------------


def table_rows(engine: Engine) -> Rows:
    """Every table's rows in key order, timestamps in UTC (SQLite keeps them without an offset)."""
    metadata = MetaData()
    metadata.reflect(engine)
    rows: Rows = {}
    with engine.connect() as connection:
        for table in sorted(metadata.tables.values(), key=lambda t: t.name):
            if table.name != "alembic_version":
                order = list(table.primary_key.columns) or list(table.columns)
                result = connection.execute(select(table).order_by(*order))
                rows[table.name] = [tuple(_utc(value) for value in row) for row in result]
    return rows


def _utc(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    return value


def blob_digests(app: Flask) -> dict[str, str]:
    """sha256 of the bytes on disk of every blob a row names, by the name the row gives it."""
    store: BlobStore = app.extensions["blobs"]
    with app.app_context(), transaction() as session:
        named = session.execute(
            text("SELECT sha256 FROM attachments WHERE sha256 IS NOT NULL UNION SELECT sha256 FROM form_media")
        ).scalars()
        return {sha: hashlib.sha256(store.path(sha).read_bytes()).hexdigest() for sha in named}


def served(app: Flask, user: MadeUser) -> dict[str, bytes]:
    """What a phone downloads: every listed form and every media file of its manifest."""
    client = app.test_client()
    listing = ElementTree.fromstring(client.get(f"{user.prefix}/formList").data)
    files: dict[str, bytes] = {}
    for xform in listing.findall(f"{XF}xform"):
        form_id = xform.findtext(f"{XF}formID", "")
        download = client.get(xform.findtext(f"{XF}downloadUrl", "").removeprefix("http://localhost"))
        assert download.status_code == 200
        files[form_id] = download.data
        if manifest_url := xform.findtext(f"{XF}manifestUrl"):
            manifest = ElementTree.fromstring(client.get(manifest_url.removeprefix("http://localhost")).data)
            for media in manifest.findall(f"{MF}mediaFile"):
                response = client.get(media.findtext(f"{MF}downloadUrl", "").removeprefix("http://localhost"))
                assert response.status_code == 200
                files[f"{form_id}/{media.findtext(f'{MF}filename')}"] = response.data
                response.close()
    return files


def cli(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=list(args))
    assert "Traceback" not in result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def assert_same(source: Flask, restored: Flask, user: MadeUser) -> None:
    expected = table_rows(engine_of(source))
    got = table_rows(engine_of(restored))
    assert set(got) == set(expected)
    for name, rows in expected.items():
        assert got[name] == rows, name
    assert sum(map(len, expected.values())) > 0
    digests = blob_digests(source)
    assert digests  # attachments and form media
    assert all(sha == on_disk for sha, on_disk in digests.items())
    assert blob_digests(restored) == digests
    assert served(restored, user) == served(source, user)


# --- the round trip ----------------------------------------------------------------------------------------------


def test_round_trip_restores_every_row_blob_and_download(app: Flask, target: Flask, odk: Path, tmp_path: Path) -> None:
    user = load_real_data(app, odk)
    archive = tmp_path / "chainlift.tar"
    code, output = cli(app, "backup", str(archive))
    assert code == 0, output
    assert not archive.with_name("chainlift.tar.partial").exists()
    reader = backup.ArchiveReader(archive)
    manifest = reader.manifest
    reader.close()
    expected = table_rows(engine_of(app))
    assert {name: entry.rows for name, entry in manifest.tables.items()} == {n: len(r) for n, r in expected.items()}
    assert set(manifest.blobs) == set(blob_digests(app))
    assert manifest.secret_key_sha256 is None

    code, output = cli(target, "restore", str(archive))
    assert code == 0, output
    assert f"Restored {len(expected)} tables and {sum(map(len, expected.values()))} rows" in output
    assert_same(app, target, user)
    # The restored server goes on: ids continue above the old ones, a resubmission is recognised.
    both = (odk / "edits/binaryType-both-to-both2.xml").read_bytes()
    client = target.test_client()
    assert submit(client, user.prefix, both).status_code == 202
    new = b'<data id="binaryType"><meta><instanceID>after</instanceID></meta></data>'
    assert submit(client, user.prefix, new).status_code == 201
    with target.app_context(), transaction() as session:
        ids = session.execute(text("SELECT id FROM submissions ORDER BY id")).scalars().all()
    assert ids[-1] > max(row[0] for row in expected["submissions"])


def test_restore_into_a_database_with_data_needs_force_and_then_replaces_it(
    app: Flask, target: Flask, odk: Path, tmp_path: Path
) -> None:
    user = load_attachments(app, odk)
    archive = tmp_path / "chainlift.tar"
    assert cli(app, "backup", str(archive))[0] == 0
    command.upgrade(alembic_config(target.config["DATABASE_URL"]), "head")
    Factory(target).user("someone-else")
    before = table_rows(engine_of(target))

    code, output = cli(target, "restore", str(archive))
    assert code == 1
    assert "not empty" in output
    assert "--force" in output
    assert table_rows(engine_of(target)) == before

    code, output = cli(target, "restore", "--force", str(archive))
    assert code == 0, output
    assert_same(app, target, user)


def test_a_failing_restore_leaves_the_database_as_it_was(app: Flask, target: Flask, odk: Path, tmp_path: Path) -> None:
    load_attachments(app, odk)
    archive = tmp_path / "chainlift.tar"
    assert cli(app, "backup", str(archive))[0] == 0
    lying = tmp_path / "lying.tar"
    _rewrite_manifest(archive, lying, lambda m: m["tables"]["attachments"].update(rows=1))
    command.upgrade(alembic_config(target.config["DATABASE_URL"]), "head")
    Factory(target).user("someone-else")
    before = table_rows(engine_of(target))

    code, output = cli(target, "restore", "--force", str(lying))
    assert code == 1
    assert "table attachments has 5 rows, the manifest says 1" in output
    assert table_rows(engine_of(target)) == before  # dropped tables, new schema and rows all rolled back


def _rewrite_manifest(source: Path, target: Path, change: Any) -> None:
    with tarfile.open(source) as old, tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as new:
        for member in old.getmembers():
            data = old.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == MANIFEST_NAME:
                manifest = json.loads(data)
                change(manifest)
                data = json.dumps(manifest).encode()
                member.size = len(data)
            new.addfile(member, io.BytesIO(data))


@pytest.mark.parametrize("damage", ["truncated", "flipped", "garbage", "no-manifest", "wrong-format", "newer-schema"])
def test_a_damaged_archive_is_refused_in_one_line(
    app: Flask, target: Flask, odk: Path, tmp_path: Path, damage: str
) -> None:
    Factory(app).publish(odk / "forms/withAttachments.xml", media={"goodone.csv": b"a,b\n", "goodtwo.mp3": b"ID3"})
    archive = tmp_path / "chainlift.tar"
    assert cli(app, "backup", str(archive))[0] == 0
    data = bytearray(archive.read_bytes())
    if damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "flipped":  # one byte inside the form_versions table's part
        with tarfile.open(archive) as tar:
            member = tar.getmember("db/form_versions.jsonl.gz")
        data[member.offset_data + member.size // 2] ^= 0xFF
    elif damage == "garbage":
        data = bytearray(os.urandom(len(data)))
    damaged = tmp_path / "damaged.tar"
    damaged.write_bytes(data)
    if damage == "no-manifest":
        with tarfile.open(archive) as old, tarfile.open(damaged, "w") as new:
            for member in old.getmembers():
                if member.name != MANIFEST_NAME:
                    new.addfile(member, old.extractfile(member))
    elif damage == "wrong-format":
        _rewrite_manifest(archive, damaged, lambda m: m.update(format_version=99))
    elif damage == "newer-schema":  # a backup from a later ChainLift, with migrations this one does not have
        _rewrite_manifest(archive, damaged, lambda m: m.update(alembic_revision="0123456789ab"))

    code, output = cli(target, "restore", str(damaged))
    assert code == 1
    [error] = [line for line in output.splitlines() if line.startswith("Error:")]
    assert error == output.strip().splitlines()[-1]
    with target.app_context(), transaction() as session:
        assert backup.occupied_tables(session.connection()) == []


def test_backup_never_overwrites_and_names_missing_media(app: Flask, odk: Path, tmp_path: Path) -> None:
    Factory(app).publish(odk / "forms/withAttachments.xml", media={"goodone.csv": b"a,b\n", "goodtwo.mp3": b"ID3"})
    archive = tmp_path / "chainlift.tar"
    archive.write_bytes(b"precious")
    code, output = cli(app, "backup", str(archive))
    assert (code, archive.read_bytes()) == (1, b"precious")
    assert "exists already" in output
    store: BlobStore = app.extensions["blobs"]
    store.path(hashlib.sha256(b"ID3").hexdigest()).unlink()
    code, output = cli(app, "backup", str(tmp_path / "other.tar"))
    assert code == 1
    assert "1 files the database refers to are missing" in output
    assert not list(tmp_path.glob("other.tar*"))


def test_secret_key_travels_only_when_asked(app: Flask, target: Flask, settings: Settings, tmp_path: Path) -> None:
    plain, keyed = tmp_path / "plain.tar", tmp_path / "keyed.tar"
    assert cli(app, "backup", str(plain))[0] == 0
    assert cli(app, "backup", "--include-secret-key", str(keyed))[0] == 0
    assert settings.secret_key.encode() not in plain.read_bytes()
    code, output = cli(target, "restore", "--secret-key", str(plain))
    assert code == 1
    assert "holds no secret key" in output
    code, output = cli(target, "restore", "--force", "--secret-key", str(keyed))
    assert code == 0, output
    key_file = target.extensions["settings"].instance_path / "secret_key"
    assert key_file.read_text().strip() == settings.secret_key
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_a_backup_at_an_older_schema_is_upgraded_on_restore(
    app: Flask, target: Flask, factory: Factory, odk: Path, tmp_path: Path
) -> None:
    settings: Settings = app.extensions["settings"]
    factory.publish(odk / "forms/withAttachments.xml", media={"goodone.csv": b"a,b\n", "goodtwo.mp3": b"ID3"})
    user = factory.user("amina")
    config = alembic_config(settings.database_url)
    # back to before the audit log: the newer migrations add a table and a defaulted column, the rows above survive
    command.downgrade(config, "9f4f28e2e1f6")
    try:
        older = table_rows(engine_of(app))
        archive = tmp_path / "older.tar"
        assert cli(app, "backup", str(archive))[0] == 0
    finally:
        command.upgrade(config, "head")
    code, output = cli(target, "restore", str(archive))
    assert code == 0, output
    assert "upgraded to" in output
    restored = table_rows(engine_of(target))
    assert {name: restored[name] for name in older} == older
    assert set(restored) - set(older)  # the tables of the newer migration exist, empty
    assert served(target, user) == served(app, user)


# --- a backup taken while phones submit -------------------------------------------------------------------------


@dataclass
class Poster:
    """Posts complete submissions (two attachments each) to a live server until stopped."""

    base: str
    user: MadeUser
    acknowledged: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    progress: threading.Condition = field(default_factory=threading.Condition)

    def run(self) -> None:
        with requests.Session() as http:
            n = 0
            while not self.stop.is_set():
                n += 1
                instance = f"live-{n}"
                xml = f'<data id="binaryType"><meta><instanceID>{instance}</instanceID></meta>'
                xml += "<file1>a.mp4</file1><file2>b.jpg</file2></data>"
                files = {
                    "xml_submission_file": ("instance.xml", xml.encode(), "text/xml"),
                    "a.mp4": ("a.mp4", os.urandom(4096), "video/mp4"),
                    "b.jpg": ("b.jpg", os.urandom(2048), "image/jpeg"),
                }
                response = http.post(f"{self.base}{self.user.prefix}/submission", files=files, timeout=60)
                with self.progress:
                    if response.status_code == 201:
                        self.acknowledged.append(instance)
                    else:
                        self.failures.append(f"{instance}: {response.status_code}")
                    self.progress.notify_all()

    def wait_for(self, count: int) -> None:
        with self.progress:
            assert self.progress.wait_for(lambda: len(self.acknowledged) >= count or bool(self.failures), timeout=120)
        assert not self.failures


def test_a_backup_taken_while_phones_submit_restores_complete_submissions(
    app: Flask, target: Flask, factory: Factory, odk: Path, tmp_path: Path
) -> None:
    settings: Settings = app.extensions["settings"]
    factory.publish(odk / "forms/binaryType.xml")
    user = factory.user("amina")
    archive_path = tmp_path / "live.tar"
    with gunicorn(settings, workers=2, threads=2) as base:
        poster = Poster(base, user)
        thread = threading.Thread(target=poster.run)
        thread.start()
        try:
            poster.wait_for(3)
            seen_at_snapshot: list[str] = []

            def hold_snapshot_open(message: str) -> None:
                """Once the snapshot is taken, let three more submissions commit before reading on."""
                if message.startswith("Reading") and not seen_at_snapshot:
                    with poster.progress:
                        seen_at_snapshot.extend(poster.acknowledged)
                    poster.wait_for(len(seen_at_snapshot) + 3)

            archive = backup.ArchiveWriter(archive_path)
            with poster.progress:
                before_snapshot = list(poster.acknowledged)
            with app.app_context():
                with transaction(snapshot=True) as session:
                    snapshot = backup.dump_database(session, archive, hold_snapshot_open)
                poster.wait_for(len(poster.acknowledged) + 2)  # new blobs arrive while the old ones are copied
                blobs = backup.copy_blobs(app.extensions["blobs"], snapshot.blobs, archive, lambda _: None)
            archive.finish(backup.manifest_for(snapshot, blobs, None))
        finally:
            poster.stop.set()
            thread.join()
    assert not poster.failures

    code, output = cli(target, "restore", str(archive_path))
    assert code == 0, output
    with target.app_context(), transaction() as session:
        restored = set(session.execute(text("SELECT instance_id FROM submissions")).scalars())
        files = session.execute(
            text(
                "SELECT v.instance_id, a.name, a.sha256 FROM attachments a "
                "JOIN submission_versions v ON v.id = a.version_id"
            )
        ).all()
    # The snapshot began between `before_snapshot` and `seen_at_snapshot`: everything acknowledged before it is
    # there; of what was acknowledged after, at most the POST that was in flight.
    after = [i for i in poster.acknowledged if i not in seen_at_snapshot]
    assert set(before_snapshot) <= restored <= set(seen_at_snapshot) | {after[0]}
    store: BlobStore = target.extensions["blobs"]
    assert sorted((i, n) for i, n, _ in files) == sorted((i, n) for i in restored for n in ("a.mp4", "b.jpg"))
    for _, _, sha in files:
        assert sha is not None
        assert hashlib.sha256(store.path(sha).read_bytes()).hexdigest() == sha


# --- across databases ---------------------------------------------------------------------------------------------


def test_a_sqlite_backup_restores_into_postgresql(
    test_database: conftest.TestDatabase, app: Flask, odk: Path, tmp_path: Path
) -> None:
    if not test_database.is_postgres:
        pytest.skip("needs --database-url (the PostgreSQL target)")
    source_url = f"sqlite:///{tmp_path / 'source.sqlite3'}"
    command.upgrade(alembic_config(source_url), "head")
    source = _app(source_url, tmp_path / "source")
    try:
        user = load_real_data(source, odk)
        archive = tmp_path / "from-sqlite.tar"
        assert cli(source, "backup", str(archive))[0] == 0
        code, output = cli(app, "restore", str(archive))
        assert code == 0, output
        assert_same(source, app, user)
    finally:
        engine_of(source).dispose()
