"""Backup and restore of the database and the media store (``flask backup`` / ``flask restore``).

A backup is one tar file (see ``archive``): a portable logical dump of every table, read in one snapshot
transaction, the blobs its rows refer to, and a manifest with the sha256 of every part. Being logical, it
restores into SQLite or PostgreSQL whichever it was taken from, and at the current schema head.
"""

from app.services.backup.archive import ArchiveReader, ArchiveWriter
from app.services.backup.dump import copy_blobs, dump_database, manifest_for
from app.services.backup.errors import BackupError
from app.services.backup.load import (
    Restored,
    not_empty_message,
    occupied_tables,
    restore_blobs,
    restore_database,
    verify_parts,
)
from app.services.backup.manifest import SECRET_KEY_PART, Manifest

__all__ = [
    "SECRET_KEY_PART",
    "ArchiveReader",
    "ArchiveWriter",
    "BackupError",
    "Manifest",
    "Restored",
    "copy_blobs",
    "dump_database",
    "manifest_for",
    "not_empty_message",
    "occupied_tables",
    "restore_blobs",
    "restore_database",
    "verify_parts",
]
