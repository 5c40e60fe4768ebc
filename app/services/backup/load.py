"""Restoring a backup: verify the archive, put back the blobs, then rebuild the database in one transaction.

The database is rebuilt at the backup's schema revision, filled, checked against the manifest's row counts and
upgraded to the current head, all inside the caller's transaction: on any error it is rolled back and the
database is as it was. Blobs go in first: until the commit nothing refers to them (as for a submission).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, and_, bindparam, func, literal, select
from sqlalchemy.orm import Session

from app.services.backup import codec, schema
from app.services.backup.archive import ArchiveReader
from app.services.backup.errors import BackupError
from app.services.backup.manifest import SECRET_KEY_PART, TableEntry, blob_part, table_part
from app.services.blobs import BlobStore

Progress = Callable[[str], None]
BATCH = 1000


@dataclass(frozen=True)
class Restored:
    tables: int
    rows: int
    dropped: int  # tables that were in the database before (with --force)
    from_revision: str
    to_revision: str


def verify_parts(archive: ArchiveReader, progress: Progress) -> None:
    """Check every table part (and the secret key) against the manifest's sha256; blobs are checked on copy."""
    manifest = archive.manifest
    if not schema.known_revision(manifest.alembic_revision):
        raise BackupError(
            f"the backup was taken at schema revision {manifest.alembic_revision}, which this ChainLift does not"
            " know (it comes from a newer version): install that version or a later one to restore it"
        )
    progress(f"Checking {len(manifest.tables)} tables ({manifest.row_count} rows) against the manifest…")
    for name, entry in manifest.tables.items():
        if archive.sha256(table_part(name)) != entry.sha256:
            raise BackupError(f"the backup is damaged: table {name} does not match its sha256 in the manifest")
    if manifest.secret_key_sha256 and archive.sha256(SECRET_KEY_PART) != manifest.secret_key_sha256:
        raise BackupError("the backup is damaged: the secret key does not match its sha256 in the manifest")


def occupied_tables(connection: Connection) -> list[str]:
    """Tables holding at least one row (a freshly migrated database has none)."""
    return [t.name for t in schema.reflect(connection) if connection.scalar(select(literal(1)).select_from(t).limit(1))]


def restore_blobs(store: BlobStore, archive: ArchiveReader, progress: Progress) -> tuple[int, int]:
    """Copy every blob not yet in the store, checking its bytes; return (copied, already present)."""
    blobs = archive.manifest.blobs
    copied = present = 0
    progress(f"Restoring {len(blobs)} media files ({archive.manifest.blob_bytes:,} bytes) into {store.root}…")
    for done, (sha, size) in enumerate(sorted(blobs.items()), start=1):
        if archive.size(blob_part(sha)) != size:
            raise BackupError(f"the backup is damaged: media file {sha} is missing or has the wrong size")
        path = store.path(sha)
        if path.is_file() and path.stat().st_size == size:
            present += 1
        else:
            if store.put_stream(archive.open(blob_part(sha))).sha256 != sha:
                raise BackupError(f"the backup is damaged: media file {sha} does not match its sha256")
            copied += 1
        if done % 500 == 0:
            progress(f"  {done} of {len(blobs)} media files")
    return copied, present


def restore_database(session: Session, archive: ArchiveReader, *, force: bool, progress: Progress) -> Restored:
    """Replace the database's content with the backup's; the caller's write transaction commits or rolls back."""
    manifest = archive.manifest
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")  # until the commit: tables refer in a cycle
    occupied = occupied_tables(connection)
    if occupied and not force:
        raise BackupError(not_empty_message(occupied))
    dropped = schema.drop_everything(connection)
    if dropped:
        progress(f"Dropped the {len(dropped)} tables that were there ({'--force' if occupied else 'all empty'}).")
    progress(f"Creating the schema at the backup's revision {manifest.alembic_revision}…")
    schema.migrate(connection, manifest.alembic_revision)
    target = {t.name: t for t in schema.reflect(connection)}
    unknown = sorted(set(manifest.tables) - set(target))
    if unknown:
        raise BackupError(f"the backup has tables its schema revision does not create: {', '.join(unknown)}")
    ordered, deferred = schema.insert_order(list(target.values()))
    pending: list[tuple[Table, str, list[dict[str, Any]]]] = []
    for table in ordered:
        if (entry := manifest.tables.get(table.name)) is not None:
            later = [c for c in entry.columns if (table.name, c) in deferred]
            pending += _insert_table(connection, table, entry, archive, later)
            if entry.rows:
                progress(f"  {table.name}: {entry.rows} rows")
    for table, column, values in pending:
        _set_later(connection, table, column, values)
    for name, entry in manifest.tables.items():
        if entry.next_id is not None:
            schema.set_next_id(connection, target[name], entry.next_id)
        counted = connection.scalar(select(func.count()).select_from(target[name]))
        if counted != entry.rows:
            raise BackupError(f"table {name} holds {counted} rows after the restore, the manifest says {entry.rows}")
    head = schema.head_revision()
    if manifest.alembic_revision != head:
        progress(f"Upgrading the schema from {manifest.alembic_revision} to {head}…")
        schema.migrate(connection, "head")
    return Restored(len(manifest.tables), manifest.row_count, len(dropped), manifest.alembic_revision, head)


def not_empty_message(occupied: list[str]) -> str:
    shown = ", ".join(occupied[:5]) + (", …" if len(occupied) > 5 else "")
    return (
        f"the database is not empty ({len(occupied)} tables hold rows: {shown}). Restore into an empty database, "
        "or pass --force to drop every table in it and replace its whole content with the backup"
    )


def _insert_table(
    connection: Connection, table: Table, entry: TableEntry, archive: ArchiveReader, later: list[str]
) -> list[tuple[Table, str, list[dict[str, Any]]]]:
    """Insert the table's rows in batches; return the deferred (cycle-closing) column values to set afterwards."""
    if set(entry.columns) != set(table.columns.keys()):
        raise BackupError(f"table {table.name} in the backup does not have the columns of its schema revision")
    types = [table.c[name].type for name in entry.columns]
    keys = [c.name for c in table.primary_key.columns]
    deferred: dict[str, list[dict[str, Any]]] = {column: [] for column in later}
    batch: list[dict[str, Any]] = []
    read = 0
    for row in archive.rows(table_part(table.name)):
        if len(row) != len(entry.columns):
            raise BackupError(f"the backup is damaged: a row of {table.name} has the wrong number of values")
        values = {
            name: codec.decode(value, kind, type_)
            for name, value, kind, type_ in zip(entry.columns, row, entry.kinds, types, strict=True)
        }
        for column in later:
            if values[column] is not None:
                deferred[column].append({**{f"key_{k}": values[k] for k in keys}, "later_value": values[column]})
                values[column] = None
        batch.append(values)
        read += 1
        if len(batch) >= BATCH:
            connection.execute(table.insert(), batch)
            batch = []
    if batch:
        connection.execute(table.insert(), batch)
    if read != entry.rows:
        raise BackupError(f"the backup is damaged: table {table.name} has {read} rows, the manifest says {entry.rows}")
    return [(table, column, values) for column, values in deferred.items() if values]


def _set_later(connection: Connection, table: Table, column: str, values: list[dict[str, Any]]) -> None:
    keys = [c.name for c in table.primary_key.columns]
    where = and_(*(table.c[k] == bindparam(f"key_{k}") for k in keys))
    statement = table.update().where(where).values({column: bindparam("later_value")})
    for start in range(0, len(values), BATCH):
        connection.execute(statement, values[start : start + BATCH])
