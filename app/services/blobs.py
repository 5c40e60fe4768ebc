"""Content-addressed file storage under MEDIA_ROOT for attachments and form media.

A blob is written to a temporary file, fsynced, linked to ``<root>/blobs/ab/cd/<sha256>`` and its directory
fsynced, so that once ``put`` returns the bytes survive a crash. Client file names never become paths.
Blobs are immutable and shared between rows with the same content.

A request that stores blobs before its database transaction passes ``Claims``: each blob it creates stays
locked (flock LOCK_EX) until the request ends, and ``Claims.discard`` removes them when the transaction did not
commit, so a refused or failed submission leaves no file behind. Whoever finds a blob that another request
still holds waits until that request has ended and then looks again: it never relies on a blob about to be
discarded.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

from app.errors import UnavailableError

CHUNK = 1024 * 1024
WAIT_FOR_HOLDER_S = 30.0


@dataclass(frozen=True)
class BlobRef:
    sha256: str
    md5: str
    size: int


class Claims:
    """The blobs one request created, locked until ``release``; ``discard`` deletes them first."""

    def __init__(self) -> None:
        self._held: dict[Path, BinaryIO] = {}

    def holds(self, path: Path) -> bool:
        return path in self._held

    def __len__(self) -> int:
        """Blobs held, each with an open descriptor: a caller that stores many bounds this."""
        return len(self._held)

    def add(self, path: Path, locked: BinaryIO) -> None:
        self._held[path] = locked

    def discard(self) -> None:
        """Only when the request's transaction certainly did not commit: nobody else can rely on these yet."""
        for path in self._held:
            path.unlink(missing_ok=True)
        self.release()

    def release(self) -> None:
        for locked in self._held.values():
            locked.close()  # closing the descriptor releases its lock
        self._held.clear()


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._tmp = root / "tmp"

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256 digest: {sha256!r}")
        return self.root / "blobs" / sha256[:2] / sha256[2:4] / sha256

    def put_bytes(self, data: bytes, claims: Claims | None = None) -> BlobRef:
        return self._store(lambda fh: fh.write(data), claims)

    def put_stream(self, stream: IO[bytes], claims: Claims | None = None) -> BlobRef:
        if stream.seekable():
            stream.seek(0)

        def copy(fh: _HashingWriter) -> None:
            while chunk := stream.read(CHUNK):
                fh.write(chunk)

        return self._store(copy, claims)

    def put_chunks(
        self, produce: Callable[[Callable[[bytes], object]], object], claims: Claims | None = None
    ) -> BlobRef:
        """A blob whose bytes ``produce`` hands, chunk by chunk, to the writer it is given (e.g. a download). If it
        raises, nothing is stored."""
        return self._store(lambda fh: produce(fh.write), claims)

    def _store(self, write: Callable[[_HashingWriter], object], claims: Claims | None) -> BlobRef:
        self._tmp.mkdir(parents=True, exist_ok=True)
        sha, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp)
        raw: BinaryIO | None = os.fdopen(fd, "wb")
        try:
            assert raw is not None  # noqa: S101 - for the type checker: set just above
            hashing = _HashingWriter(raw, sha, md5)
            write(hashing)
            raw.flush()
            os.fsync(raw.fileno())
            ref = BlobRef(sha256=sha.hexdigest(), md5=md5.hexdigest(), size=hashing.size)
            target = self.path(ref.sha256)
            target.parent.mkdir(parents=True, exist_ok=True)
            fcntl.flock(raw.fileno(), fcntl.LOCK_EX)  # before anyone can see it under its name
            while claims is None or not claims.holds(target):
                try:
                    os.link(tmp_name, target)  # never replaces: a blob already there stays
                except FileExistsError:
                    if _settled(target):
                        break
                    continue  # its creator discarded it: place ours
                _fsync_dir(target.parent)
                if claims is not None:
                    claims.add(target, raw)
                    raw = None
                break
        finally:
            if raw is not None:
                raw.close()
            os.unlink(tmp_name)
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


def _settled(path: Path) -> bool:
    """Wait until no request holds the blob at ``path``; True if it is still there (it stands), False if gone."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        deadline = time.monotonic() + WAIT_FOR_HOLDER_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise UnavailableError("The server is busy storing the same file; send again later.") from None
                time.sleep(0.01)  # the same bytes in flight in another request: rare
        try:
            return os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            return False
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
