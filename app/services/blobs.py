"""Content-addressed file storage under MEDIA_ROOT for attachments and form media.

A blob is written to a temporary file, fsynced, renamed to ``<root>/blobs/ab/cd/<sha256>`` and its directory
fsynced, so that once ``put`` returns the bytes survive a crash. Client file names never become paths.
Blobs are immutable and shared between rows with the same content.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class BlobRef:
    sha256: str
    md5: str
    size: int


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._tmp = root / "tmp"

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256 digest: {sha256!r}")
        return self.root / "blobs" / sha256[:2] / sha256[2:4] / sha256

    def put_bytes(self, data: bytes) -> BlobRef:
        return self._store(lambda fh: fh.write(data))

    def put_stream(self, stream: IO[bytes]) -> BlobRef:
        if stream.seekable():
            stream.seek(0)

        def copy(fh: _HashingWriter) -> None:
            while chunk := stream.read(CHUNK):
                fh.write(chunk)

        return self._store(copy)

    def _store(self, write: Callable[[_HashingWriter], object]) -> BlobRef:
        self._tmp.mkdir(parents=True, exist_ok=True)
        sha, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp)
        try:
            with os.fdopen(fd, "wb") as raw:
                hashing = _HashingWriter(raw, sha, md5)
                write(hashing)
                size = hashing.size
                raw.flush()
                os.fsync(raw.fileno())
            ref = BlobRef(sha256=sha.hexdigest(), md5=md5.hexdigest(), size=size)
            target = self.path(ref.sha256)
            if target.exists():
                os.unlink(tmp_name)
                return ref
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_name, target)
            _fsync_dir(target.parent)
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise
        return ref

    def open(self, sha256: str) -> BinaryIO:
        return self.path(sha256).open("rb")


class _HashingWriter:
    def __init__(self, raw: BinaryIO, *hashes: Any) -> None:
        self.raw, self.hashes, self.size = raw, hashes, 0

    def write(self, data: bytes) -> int:
        for h in self.hashes:
            h.update(data)
        self.size += len(data)
        return self.raw.write(data)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
