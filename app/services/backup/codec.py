"""Column values as portable JSON: the same archive restores into SQLite or PostgreSQL.

JSON columns travel as their JSON text (so SQL NULL and JSON ``null`` stay apart); bytes, timestamps, dates and
decimals as one-key tagged objects. Timestamps are written in UTC; a naive one read from SQLite is UTC already
(``app.db.UTCDateTime`` stores UTC without an offset there).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, DateTime, null
from sqlalchemy.types import TypeEngine

from app.services.backup.errors import BackupError

JSON_KIND = "json"
PLAIN_KIND = "plain"


def column_kind(column: Column[Any]) -> str:
    return JSON_KIND if isinstance(column.type, JSON) else PLAIN_KIND


def encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes | memoryview):
        return {"b64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dt.datetime):
        return {"ts": (value.astimezone(dt.UTC) if value.tzinfo else value).isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"dec": str(value)}
    raise BackupError(f"cannot back up a value of type {type(value).__name__}")


def decode(value: Any, kind: str, target: TypeEngine[Any]) -> Any:
    """The value to bind into a column of type ``target`` of the restored schema."""
    if kind == JSON_KIND:
        if value is None:
            return null()  # SQL NULL, not the JSON text 'null'
        parsed = json.loads(value)
        return JSON.NULL if parsed is None else parsed
    if not isinstance(value, dict):
        return value
    [(tag, text)] = value.items()
    if tag == "ts":
        stamp = dt.datetime.fromisoformat(text)
        if isinstance(target, DateTime) and target.timezone and stamp.tzinfo is None:
            return stamp.replace(tzinfo=dt.UTC)
        return stamp
    if tag not in TAGGED:
        raise BackupError(f"unknown value tag {tag!r} in the archive")
    return TAGGED[tag](text)


TAGGED: dict[str, Callable[[str], Any]] = {"b64": base64.b64decode, "date": dt.date.fromisoformat, "dec": Decimal}
