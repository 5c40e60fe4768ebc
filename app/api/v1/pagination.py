"""Cursor pagination: pages in id order, ``limit`` items each, ``next_cursor`` = the last id, encoded.

Keyset paging (``WHERE id > :last ORDER BY id LIMIT :n+1``): rows added or removed while a client walks the
pages neither repeat nor shift what it sees, and a page costs the same deep in the list as at its start.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.schemas.api import DEFAULT_LIMIT, encode_cursor

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: Sequence[T]
    next_cursor: str | None


def fetch_page(
    session: Session,
    stmt: Select[*tuple[Any, ...]],
    id_column: InstrumentedAttribute[int],
    args: Mapping[str, Any],
    id_of: Callable[[Any], int],
) -> Page[Any]:
    """One page of ``stmt`` (rows as ``session.execute`` returns them); ``id_of`` reads a row's id."""
    limit: int = args.get("limit") or DEFAULT_LIMIT
    after: int | None = args.get("cursor")
    if after is not None:
        stmt = stmt.where(id_column > after)
    rows = list(session.execute(stmt.order_by(id_column).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(id_of(rows[-1])) if more and rows else None)
