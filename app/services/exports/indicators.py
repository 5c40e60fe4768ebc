"""Stored indicator results in long format with their CIs, as typed rows for the writers (the API's CSV too)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.services.exports.writers import Batch, Column, Kind, batched
from app.services.indicators import read

N, B, DT = Kind.NUMBER, Kind.BOOL, Kind.DATETIME
KINDS = {
    "value": N,
    "ci_low": N,
    "ci_high": N,
    "n": N,
    "n_eff": N,
    "watermark": N,
    "suppressed": B,
    "stale": B,
    "computed_at": DT,
    "data_as_of": DT,
}
COLUMNS = tuple(Column(name, KINDS.get(name, Kind.TEXT)) for name in read.COLUMNS)


def batches(session: Session, args: Mapping[str, Any]) -> Iterator[Batch]:
    """Every matching result in id order (``read.iter_results`` reads them a batch at a time), as rows in COLUMNS
    order, in batches."""
    return batched(tuple(item[name] for name in read.COLUMNS) for item in read.iter_results(session, args))


def count(session: Session, args: Mapping[str, Any]) -> int:
    """How many results match (unknown chain, round or code: a NotFoundError)."""
    stmt = read.results_query(session, args)
    return int(session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0)
