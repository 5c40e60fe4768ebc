"""The archive file: one uncompressed POSIX tar, written to ``PATH.partial``, fsynced and renamed at the end.

Members: ``db/<table>.jsonl.gz`` (one JSON array per row), ``media/<sha256>`` (a blob's bytes), optionally
``secret_key``, and ``manifest.json`` last, with the sha256 of every other member. Members are read by the
names the manifest implies, never extracted by the paths the tar claims.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import tarfile
import tempfile
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from app.services.backup.errors import BackupError
from app.services.backup.manifest import MANIFEST_NAME, Manifest

CHUNK = 1024 * 1024
ARCHIVE_ERRORS = (tarfile.TarError, OSError, EOFError, zlib.error, ValueError, TypeError)


class _Hashing:
    """A read-only file wrapper that hashes what is read through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw, self.sha = raw, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.sha.update(data)
        return data


class ArchiveWriter:
    def __init__(self, path: Path) -> None:
        if path.exists():
            raise BackupError(f"{path} exists already: choose a new file name (backups are never overwritten)")
        if not path.parent.is_dir():
            raise BackupError(f"folder {path.parent} does not exist")
        self.path = path
        self.partial = path.with_name(path.name + ".partial")
        self._tar = tarfile.open(self.partial, "w", format=tarfile.PAX_FORMAT)  # noqa: SIM115 - closed in finish/abort

    def add_stream(self, name: str, stream: IO[bytes], size: int) -> str:
        """Add ``size`` bytes read from ``stream`` as member ``name``; return their sha256."""
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = size, int(time.time()), 0o600
        hashing = _Hashing(stream)
        self._tar.addfile(info, hashing)
        return hashing.sha.hexdigest()

    def add_bytes(self, name: str, data: bytes) -> str:
        with tempfile.SpooledTemporaryFile() as buffer:
            buffer.write(data)
            buffer.seek(0)
            return self.add_stream(name, buffer, len(data))

    def rows_writer(self) -> RowsWriter:
        return RowsWriter(self)

    def finish(self, manifest: Manifest) -> None:
        self.add_bytes(MANIFEST_NAME, manifest.to_json())
        self._tar.close()
        with self.partial.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(self.partial, self.path)
        fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def abort(self) -> None:
        self._tar.close()
        self.partial.unlink(missing_ok=True)


class RowsWriter:
    """One table's rows, gzipped into a temporary file, then added as one member."""

    def __init__(self, archive: ArchiveWriter) -> None:
        self.archive = archive
        self._file = tempfile.TemporaryFile(dir=archive.path.parent)  # noqa: SIM115 - closed in close()
        self._gzip = gzip.GzipFile(fileobj=self._file, mode="wb", compresslevel=6, mtime=0)
        self.rows = 0

    def write(self, row: list[Any]) -> None:
        self._gzip.write(json.dumps(row, separators=(",", ":"), ensure_ascii=False).encode() + b"\n")
        self.rows += 1

    def close(self, name: str) -> str:
        self._gzip.close()
        size = self._file.tell()
        self._file.seek(0)
        try:
            return self.archive.add_stream(name, self._file, size)
        finally:
            self._file.close()


class ArchiveReader:
    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise BackupError(f"{path} is not a file")
        self.path = path
        try:
            self._tar = tarfile.open(path, "r:")  # noqa: SIM115 - closed in close()
        except ARCHIVE_ERRORS as exc:
            raise BackupError(f"{path} is not a readable ChainLift backup (damaged or not a tar file: {exc})") from exc
        try:
            self._members = {m.name: m for m in self._tar.getmembers() if m.isfile()}
        except ARCHIVE_ERRORS as exc:
            self._tar.close()
            raise BackupError(f"{path} is not a readable ChainLift backup (damaged or not a tar file: {exc})") from exc
        try:
            self.manifest = self._manifest()
        except BackupError:
            self._tar.close()
            raise

    def _manifest(self) -> Manifest:
        if MANIFEST_NAME not in self._members:
            raise BackupError(f"{self.path} is not a complete ChainLift backup: it has no manifest (truncated?)")
        return Manifest.from_json(self.read_bytes(MANIFEST_NAME))

    def close(self) -> None:
        self._tar.close()

    def open(self, name: str) -> IO[bytes]:
        member = self._members.get(name)
        stream = self._tar.extractfile(member) if member is not None else None
        if stream is None:
            raise BackupError(f"the backup is damaged: part {name} is missing")
        return stream

    def size(self, name: str) -> int:
        return self._members[name].size if name in self._members else -1

    def read_bytes(self, name: str) -> bytes:
        try:
            return self.open(name).read()
        except ARCHIVE_ERRORS as exc:
            raise BackupError(f"the backup is damaged: part {name} cannot be read ({exc})") from exc

    def sha256(self, name: str) -> str:
        sha = hashlib.sha256()
        try:
            stream = self.open(name)
            while chunk := stream.read(CHUNK):
                sha.update(chunk)
        except ARCHIVE_ERRORS as exc:
            raise BackupError(f"the backup is damaged: part {name} cannot be read ({exc})") from exc
        return sha.hexdigest()

    def rows(self, name: str) -> Iterator[list[Any]]:
        try:
            with gzip.GzipFile(fileobj=self.open(name), mode="rb") as lines:
                for line in lines:
                    row = json.loads(line)
                    if not isinstance(row, list):
                        raise TypeError("a row is not a list")
                    yield row
        except ARCHIVE_ERRORS as exc:
            raise BackupError(f"the backup is damaged: part {name} cannot be read ({exc})") from exc
