"""`flask backup PATH` and `flask restore PATH`: a consistent snapshot of the database and the media, and back."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import DBAPIError

from app.config import Settings
from app.db import transaction
from app.errors import DomainError
from app.services import backup
from app.services.blobs import BlobStore

ARCHIVE = click.Path(path_type=Path, dir_okay=False)


@contextmanager
def _one_line_errors() -> Iterator[None]:
    """Whatever goes wrong becomes one line and exit status 1, never a traceback."""
    try:
        yield
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    except DBAPIError as exc:
        raise click.ClickException(f"database error: {str(exc.orig or exc).splitlines()[0]}") from exc
    except OSError as exc:
        raise click.ClickException(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")) from exc


def _echo(message: str) -> None:
    click.echo(message, err=True)


@click.command("backup")
@click.argument("path", type=ARCHIVE)
@click.option(
    "--include-secret-key",
    is_flag=True,
    help="Also store the instance's SECRET_KEY (it signs sessions, CSRF tokens and Digest nonces): keep such an "
    "archive as secret as the key itself.",
)
@with_appcontext
def backup_command(path: Path, *, include_secret_key: bool) -> None:
    """Write a consistent backup of the database and the media to PATH (a new .tar file).

    Every table is read in one snapshot transaction (REPEATABLE READ on PostgreSQL, one WAL read transaction on
    SQLite), so the server and the job worker may keep running; then every media file a row of that snapshot
    refers to is copied and checked against its sha256. Files stored after the snapshot are not included. The
    archive is written to PATH.partial and renamed when complete. The job queue is not backed up.
    """
    started = time.perf_counter()
    store: BlobStore = current_app.extensions["blobs"]
    settings: Settings = current_app.extensions["settings"]
    with _one_line_errors():
        archive = backup.ArchiveWriter(path)
        try:
            with transaction(snapshot=True) as session:
                snapshot = backup.dump_database(session, archive, _echo)
            blobs = backup.copy_blobs(store, snapshot.blobs, archive, _echo)
            key_sha = (
                archive.add_bytes(backup.SECRET_KEY_PART, settings.secret_key.encode()) if include_secret_key else None
            )
            manifest = backup.manifest_for(snapshot, blobs, key_sha)
            archive.finish(manifest)
        except BaseException:
            archive.abort()
            raise
    size = path.stat().st_size
    click.echo(
        f"Backup written to {path} ({size:,} bytes) in {time.perf_counter() - started:.1f} s: "
        f"{len(manifest.tables)} tables, {manifest.row_count} rows, {len(blobs)} media files "
        f"({manifest.blob_bytes:,} bytes), schema revision {manifest.alembic_revision}"
        + (", with the secret key." if include_secret_key else ".")
    )


@click.command("restore")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--force",
    is_flag=True,
    help="Restore into a database that holds data: every table in it is dropped and its whole content replaced "
    "by the backup's, in the same transaction (nothing changes if the restore fails).",
)
@click.option(
    "--secret-key",
    "restore_key",
    is_flag=True,
    help="Also write the backup's secret key to the instance folder's secret_key file (the backup must have been "
    "taken with --include-secret-key); sessions signed before the backup stay valid.",
)
@with_appcontext
def restore_command(path: Path, *, force: bool, restore_key: bool) -> None:
    """Restore a backup made by `flask backup` into this instance's (empty) database and media folder.

    The archive is checked first (every part against the sha256 in its manifest). Media files go into
    MEDIA_ROOT (content-addressed: files already there are kept). The database is then rebuilt in ONE
    transaction: the schema at the backup's revision, every row, a row count check against the manifest, and
    the migrations up to the current head. On any error it is rolled back and the database is unchanged. Stop
    the web server and the job workers first. The backup may come from SQLite or PostgreSQL.
    """
    started = time.perf_counter()
    store: BlobStore = current_app.extensions["blobs"]
    settings: Settings = current_app.extensions["settings"]
    with _one_line_errors():
        archive = backup.ArchiveReader(path)
        try:
            restored, copied, present = _restore(archive, store, force=force, restore_key=restore_key)
            if restore_key:
                _write_secret_key(settings, archive.read_bytes(backup.SECRET_KEY_PART))
            has_key = archive.manifest.secret_key_sha256 is not None
        finally:
            archive.close()
    click.echo(
        f"Restored {restored.tables} tables and {restored.rows} rows (schema {restored.from_revision}"
        + (f" upgraded to {restored.to_revision}" if restored.to_revision != restored.from_revision else "")
        + f"), {copied + present} media files ({copied} copied, {present} already present) "
        f"in {time.perf_counter() - started:.1f} s."
    )
    if has_key and not restore_key:
        click.echo("The backup holds a secret key; it was not restored (--secret-key restores it).")


def _restore(
    archive: backup.ArchiveReader, store: BlobStore, *, force: bool, restore_key: bool
) -> tuple[backup.Restored, int, int]:
    manifest = archive.manifest
    _echo(
        f"Backup of {manifest.created_at} (ChainLift {manifest.app_version}, {manifest.database_kind}, schema "
        f"{manifest.alembic_revision}): {len(manifest.tables)} tables, {manifest.row_count} rows, "
        f"{len(manifest.blobs)} media files."
    )
    if restore_key and manifest.secret_key_sha256 is None:
        raise backup.BackupError("this backup holds no secret key (it was taken without --include-secret-key)")
    backup.verify_parts(archive, _echo)
    with transaction() as session:
        occupied = backup.occupied_tables(session.connection())
    if occupied and not force:
        raise backup.BackupError(backup.not_empty_message(occupied))
    copied, present = backup.restore_blobs(store, archive, _echo)
    _echo("Restoring the database in one transaction…")
    with transaction(write=True) as session:
        restored = backup.restore_database(session, archive, force=force, progress=_echo)
    return restored, copied, present


def _write_secret_key(settings: Settings, key: bytes) -> None:
    """Replace instance/secret_key atomically (mode 600). A SECRET_KEY in the environment still wins."""
    target = settings.instance_path / "secret_key"
    partial = target.with_name("secret_key.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.strip() + b"\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(partial, target)
    _echo(f"Secret key written to {target}.")
    if os.environ.get("SECRET_KEY"):
        _echo("Note: SECRET_KEY is set in the environment and takes precedence over that file.")
