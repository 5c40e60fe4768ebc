"""Taking a backup: every table read in one snapshot, then the blobs those rows refer to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

from sqlalchemy import Connection, Table, Text, cast, select
from sqlalchemy.orm import Session

from app.services.backup import codec, schema
from app.services.backup.archive import ArchiveWriter
from app.services.backup.errors import BackupError
from app.services.backup.manifest import Manifest, TableEntry, blob_part, table_part
from app.services.blobs import BlobStore

Progress = Callable[[str], None]
BLOB_COLUMNS = (("attachments", "sha256"), ("form_media", "sha256"))  # every column that names a blob
FETCH = 2000


@dataclass(frozen=True)
class Snapshot:
    revision: str
    database_kind: str
    tables: dict[str, TableEntry]
    blobs: frozenset[str]  # sha256 of every blob a row of the snapshot refers to


def dump_database(session: Session, archive: ArchiveWriter, progress: Progress) -> Snapshot:
    """Write every table's rows; ``session`` must be in a snapshot transaction (``transaction(snapshot=True)``)."""
    connection = session.connection()
    revision = schema.revision(connection)
    if revision is None:
        raise BackupError("the database has no ChainLift schema (no alembic revision): run `flask db upgrade` first")
    tables = schema.reflect(connection)
    progress(f"Reading {len(tables)} tables in one snapshot (schema revision {revision})…")
    entries = {}
    for table in tables:
        entries[table.name] = _dump_table(connection, table, archive)
        if entries[table.name].rows:
            progress(f"  {table.name}: {entries[table.name].rows} rows")
    blobs = _referenced_blobs(connection, {t.name: t for t in tables})
    return Snapshot(revision, connection.dialect.name, entries, blobs)


def _dump_table(connection: Connection, table: Table, archive: ArchiveWriter) -> TableEntry:
    columns = list(table.columns)
    kinds = [codec.column_kind(c) for c in columns]
    selected = [cast(c, Text).label(c.name) if k == codec.JSON_KIND else c for c, k in zip(columns, kinds, strict=True)]
    order = list(table.primary_key.columns) or [c for c, k in zip(columns, kinds, strict=True) if k != codec.JSON_KIND]
    statement = select(*selected).order_by(*order).execution_options(yield_per=FETCH)
    writer = archive.rows_writer()
    for row in connection.execute(statement):
        writer.write([codec.encode(value) for value in row])
    sha = writer.close(table_part(table.name))
    return TableEntry(writer.rows, [c.name for c in columns], kinds, sha, schema.next_id(connection, table))


def _referenced_blobs(connection: Connection, tables: dict[str, Table]) -> frozenset[str]:
    found: set[str] = set()
    for table_name, column_name in BLOB_COLUMNS:
        if (table := tables.get(table_name)) is not None:
            column = table.c[column_name]
            found.update(connection.scalars(select(column).where(column.is_not(None)).distinct()))
    return frozenset(found)


def copy_blobs(store: BlobStore, wanted: frozenset[str], archive: ArchiveWriter, progress: Progress) -> dict[str, int]:
    """Add each blob to the archive, checking its bytes against its name. Blobs are immutable: no lock is needed."""
    sizes: dict[str, int] = {}
    missing, damaged = [], []
    progress(f"Copying {len(wanted)} media files…")
    for done, sha in enumerate(sorted(wanted), start=1):
        try:
            path = store.path(sha)
            with path.open("rb") as fh:
                size = path.stat().st_size
                if archive.add_stream(blob_part(sha), fh, size) != sha:
                    damaged.append(sha)
            sizes[sha] = size
        except (FileNotFoundError, ValueError):
            missing.append(sha)
        if done % 500 == 0:
            progress(f"  {done} of {len(wanted)} media files")
    if missing or damaged:
        raise BackupError(
            f"the media store under {store.root} is damaged: {len(missing)} files the database refers to are missing"
            f" and {len(damaged)} do not match their sha256 (first: {(missing + damaged)[0]}); no backup was written"
        )
    return sizes


def manifest_for(snapshot: Snapshot, blobs: dict[str, int], secret_key_sha256: str | None) -> Manifest:
    return Manifest(
        created_at=dt.datetime.now(dt.UTC).isoformat(),
        app_version=app_version(),
        alembic_revision=snapshot.revision,
        database_kind=snapshot.database_kind,
        tables=snapshot.tables,
        blobs=blobs,
        secret_key_sha256=secret_key_sha256,
    )


def app_version() -> str:
    try:
        return version("chainlift")
    except PackageNotFoundError:
        return "unknown"
