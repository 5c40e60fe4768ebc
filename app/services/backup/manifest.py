"""What an archive holds, written last into it as ``manifest.json``: enough to verify every part before use."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from app.services.backup.errors import BackupError

FORMAT = "chainlift-backup"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
SECRET_KEY_PART = "secret_key"  # noqa: S105 - the name of an archive member, not a secret


def table_part(table: str) -> str:
    return f"db/{table}.jsonl.gz"


def blob_part(sha256: str) -> str:
    return f"media/{sha256}"


@dataclass(frozen=True)
class TableEntry:
    rows: int
    columns: list[str]
    kinds: list[str]  # per column: codec.JSON_KIND or codec.PLAIN_KIND
    sha256: str  # of the part db/<table>.jsonl.gz
    next_id: int | None  # the id the table's sequence hands out next (None: no single integer key)


@dataclass(frozen=True)
class Manifest:
    created_at: str
    app_version: str
    alembic_revision: str
    database_kind: str  # the dialect it was taken from: sqlite or postgresql
    tables: dict[str, TableEntry]
    blobs: dict[str, int]  # sha256 -> size; the part media/<sha256> holds those bytes
    secret_key_sha256: str | None = None  # present only when taken with --include-secret-key
    format: str = FORMAT
    format_version: int = FORMAT_VERSION
    notes: list[str] = field(default_factory=list)

    @property
    def blob_bytes(self) -> int:
        return sum(self.blobs.values())

    @property
    def row_count(self) -> int:
        return sum(t.rows for t in self.tables.values())

    def to_json(self) -> bytes:
        data = asdict(self)
        data["blob_count"], data["blob_bytes"] = len(self.blobs), self.blob_bytes
        return json.dumps(data, indent=1, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        try:
            data: dict[str, Any] = json.loads(raw)
            if data.get("format") != FORMAT:
                raise BackupError("this file is not a ChainLift backup (its manifest names another format)")
            if data.get("format_version") != FORMAT_VERSION:
                raise BackupError(
                    f"backup format version {data.get('format_version')} is not supported "
                    f"(this ChainLift reads version {FORMAT_VERSION}); restore it with the version that wrote it"
                )
            for derived in ("blob_count", "blob_bytes"):
                data.pop(derived, None)
            data["tables"] = {name: TableEntry(**entry) for name, entry in data["tables"].items()}
            dt.datetime.fromisoformat(data["created_at"])
            return cls(**data)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BackupError(f"the backup's manifest is damaged ({exc.__class__.__name__}: {exc})") from exc
