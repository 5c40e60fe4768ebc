"""Bring stored results up to date: read a pair in one consistent snapshot, then replace its rows in a short write.

The boundary (a job or the CLI) runs ``read_pair`` in a snapshot transaction and ``store`` in a write transaction.
Reading never holds the write lock, so submissions keep flowing while a pair is computed. ``store`` consumes exactly
the marks the snapshot saw; marks made meanwhile stay and cause another run. A result set read from an older
snapshot never replaces one read from a newer snapshot, so concurrent or retried jobs cannot go back in time.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.orm import Session

from app.db import utcnow
from app.indicators.catalogue import METHOD_VERSION
from app.models import Firm, FirmObservation, IndicatorMark, IndicatorResult, IndicatorSet, SurveyRound, ValueChain
from app.services.indicators.compute import compute_batch
from app.services.indicators.context import load_pair

# A stored result row: the chain, the round, then app.indicators.results.FIELDS.
COPY_RESULTS = (
    "COPY indicator_results (value_chain_id, round_id, code, measure, subject, disaggregation, group_value, "
    "weighting, unit, value, ci_low, ci_high, n, n_eff, suppressed) FROM STDIN"
)
INSERT_RESULTS = (
    "INSERT INTO indicator_results (value_chain_id, round_id, code, measure, subject, disaggregation, group_value, "
    "weighting, unit, value, ci_low, ci_high, n, n_eff, suppressed) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass
class Computed:
    chain_id: int
    round_id: int
    rows: list[tuple[Any, ...]]  # app.indicators.results.FIELDS
    mark_ids: list[int]
    watermark: int
    data_as_of: dt.datetime | None
    snapshot_at: dt.datetime
    firms: int
    decisions: int
    duration_ms: int


def pending(
    session: Session, chain_id: int | None = None, older_than: dt.datetime | None = None
) -> list[tuple[int, int]]:
    """(chain, round) pairs with stale marks, oldest first."""
    query = select(IndicatorMark.value_chain_id, IndicatorMark.round_id, func.min(IndicatorMark.id).label("first"))
    if chain_id is not None:
        query = query.where(IndicatorMark.value_chain_id == chain_id)
    if older_than is not None:
        query = query.where(IndicatorMark.marked_at < older_than)
    query = query.group_by(IndicatorMark.value_chain_id, IndicatorMark.round_id).order_by("first")
    return [(row.value_chain_id, row.round_id) for row in session.execute(query)]


def read_pairs(session: Session, keys: list[tuple[int, int]]) -> list[Computed]:
    """Compute these (chain, round) pairs together, inside the caller's snapshot transaction."""
    started = time.perf_counter()
    marks = session.execute(
        select(IndicatorMark.value_chain_id, IndicatorMark.round_id, IndicatorMark.id, IndicatorMark.marked_at).where(
            tuple_(IndicatorMark.value_chain_id, IndicatorMark.round_id).in_(keys)
        )
    ).all()
    snapshot_at = utcnow()
    watermarks = {
        (c, r): w
        for c, r, w in session.execute(
            select(IndicatorSet.value_chain_id, IndicatorSet.round_id, IndicatorSet.watermark)
        )
    }
    computed = compute_batch(session, [load_pair(session, c, r) for c, r in keys])
    elapsed = int((time.perf_counter() - started) * 1000)
    out = []
    for key in keys:
        seen = [m for m in marks if (m.value_chain_id, m.round_id) == key]
        result = computed[key]
        out.append(
            Computed(
                chain_id=key[0],
                round_id=key[1],
                rows=result.results.rows,
                mark_ids=[m.id for m in seen],
                watermark=max([watermarks.get(key, 0), *(m.id for m in seen)]),
                data_as_of=max((m.marked_at for m in seen), default=None),
                snapshot_at=snapshot_at,
                firms=result.firms,
                decisions=result.decisions,
                duration_ms=elapsed,
            )
        )
    return out


def read_pair(session: Session, chain_id: int, round_id: int) -> Computed:
    return read_pairs(session, [(chain_id, round_id)])[0]


def _is_pair(chain_id: int, round_id: int) -> tuple[Any, Any]:
    return IndicatorSet.value_chain_id == chain_id, IndicatorSet.round_id == round_id


def store(session: Session, computed: Computed) -> bool:
    """Replace the pair's results and consume the marks it reflects. False if a newer snapshot is stored already."""
    c, r = computed.chain_id, computed.round_id
    current = session.scalar(select(IndicatorSet).where(*_is_pair(c, r)).with_for_update())
    if current is not None and current.snapshot_at is not None and current.snapshot_at > computed.snapshot_at:
        return False
    session.execute(delete(IndicatorResult).where(IndicatorResult.value_chain_id == c, IndicatorResult.round_id == r))
    rows = computed.rows
    insert_results(session, [(c, r, *row) for row in rows])
    if current is None:
        current = IndicatorSet(value_chain_id=c, round_id=r)
        session.add(current)
    current.method_version = METHOD_VERSION
    current.computed_at = utcnow()
    current.snapshot_at = computed.snapshot_at
    current.watermark = computed.watermark
    current.data_as_of = computed.data_as_of or current.data_as_of
    current.firms, current.decisions, current.results = computed.firms, computed.decisions, len(rows)
    current.duration_ms = computed.duration_ms
    current.last_error, current.last_error_at, current.failures = None, None, 0
    for start in range(0, len(computed.mark_ids), 1000):
        chunk = computed.mark_ids[start : start + 1000]
        session.execute(delete(IndicatorMark).where(IndicatorMark.id.in_(chunk)))
    session.flush()
    return True


def insert_results(session: Session, rows: list[tuple[Any, ...]]) -> None:
    """Insert result rows (tuples in the order of COPY_RESULTS) on the session's connection, in its transaction, at
    the driver's speed: COPY on PostgreSQL, one prepared executemany on SQLite. A pair has ~10,000 rows;
    SQLAlchemy's executemany of dicts spent more time building parameters than the database spent storing them."""
    if not rows:
        return
    driver: Any = session.connection().connection.driver_connection
    if session.get_bind().dialect.name == "postgresql":
        with driver.cursor() as cursor, cursor.copy(COPY_RESULTS) as copy:
            for row in rows:
                copy.write_row(row)
        return
    cursor = driver.cursor()
    try:
        cursor.executemany(INSERT_RESULTS, rows)
    finally:
        cursor.close()


def record_failure(session: Session, chain_id: int, round_id: int, error: str) -> None:
    current = session.scalar(select(IndicatorSet).where(*_is_pair(chain_id, round_id)).with_for_update())
    if current is None:
        current = IndicatorSet(value_chain_id=chain_id, round_id=round_id, failures=0, watermark=0)
        session.add(current)
    current.last_error = error[:4000]
    current.last_error_at = utcnow()
    current.failures = (current.failures or 0) + 1
    session.flush()


def pairs_to_compute(
    session: Session, chain_code: str | None = None, round_code: str | None = None
) -> list[tuple[int, int]]:
    """Every (chain, round) with observations, stored results or stale marks; optionally one chain and/or round."""
    observed = (
        select(Firm.value_chain_id.label("chain_id"), FirmObservation.round_id.label("round_id"))
        .join(Firm, Firm.id == FirmObservation.firm_id)
        .distinct()
    )
    stored = select(IndicatorSet.value_chain_id, IndicatorSet.round_id)
    marked = select(IndicatorMark.value_chain_id, IndicatorMark.round_id).distinct()
    every = observed.union(stored, marked).subquery()
    query = (
        select(every.c.chain_id, every.c.round_id)
        .join(ValueChain, ValueChain.id == every.c.chain_id)
        .join(SurveyRound, SurveyRound.id == every.c.round_id)
        .order_by(ValueChain.code, SurveyRound.number)
    )
    if chain_code:
        query = query.where(ValueChain.code == chain_code)
    if round_code:
        query = query.where(SurveyRound.code == round_code)
    return [(row.chain_id, row.round_id) for row in session.execute(query)]
