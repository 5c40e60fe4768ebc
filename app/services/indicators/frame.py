"""The firm rounds of a batch as numpy columns, and rows fetched from the database as numpy columns.

``Frame`` maps each observation id of the facts to its pair, weight and group code under every disaggregation, so
a query over decisions, sales or reasons needs to return only the observation id of each row: the groups and
weights come from here, by a vectorised search, never by a Python loop over the rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import ColumnElement, Select, TableClause, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import FromClause

from app.indicators.catalogue import DISAGGREGATIONS
from app.services.indicators.sql import Expr, PairKey

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
Objects = NDArray[np.object_]


@dataclass(frozen=True)
class Frame:
    """The firm rounds of a batch, by observation id: pair, weight and group code under each disaggregation."""

    facts: TableClause
    observation_ids: Ints  # sorted
    pair_index: Ints
    pairs: list[PairKey]
    weight: Floats
    codes: dict[str, Ints]  # disaggregation -> group code of each row
    labels: dict[str, list[str]]  # disaggregation -> group name of each code

    def rows_of(self, observation_ids: Objects) -> Ints:
        """The frame row of each observation id (every id is one of the facts': the queries join them)."""
        return np.searchsorted(self.observation_ids, ints(observation_ids))


def select_rows(
    session: Session,
    frame: Frame,
    columns: Sequence[Expr],
    source: FromClause | None,
    where: Sequence[ColumnElement[bool]],
) -> tuple[Objects, Ints]:
    """``columns`` of the rows of ``source`` (the facts, or the facts joined to other tables) that pass ``where``,
    and the frame row of each: the table's first column is the facts' observation id."""
    facts = frame.facts
    query = select(facts.c.observation_id, *columns).select_from(source if source is not None else facts)
    table = fetch(session, query.where(*where))
    return table, frame.rows_of(table[:, 0])


def fetch(session: Session, query: Select[Any]) -> Objects:
    """The rows as one 2-D object array, fetched as the driver returns them (no per-row ORM or result work)."""
    result = session.connection().execute(query)
    try:
        rows = result.cursor.fetchall()
    finally:
        result.close()
    table = np.empty((len(rows), len(query.selected_columns)), dtype=object)
    if rows:
        table[:] = rows
    return table


def floats(column: Objects) -> Floats:
    """A column of numbers and NULLs (None) as floats, NaN for NULL."""
    missing = column == None  # noqa: E711 - elementwise comparison with None, not an identity test
    if missing.any():
        column = np.where(missing, np.nan, column)
    return column.astype(np.float64)


def ints(column: Objects) -> Ints:
    return column.astype(np.int64)


def load_frame(session: Session, facts: TableClause) -> Frame:
    c = facts.c
    dims = [name for name in DISAGGREGATIONS if name != "overall"]
    table = fetch(
        session,
        select(c.observation_id, c.chain_id, c.round_id, c.w, *(c[name] for name in dims)).order_by(c.observation_id),
    )
    pair_keys = np.stack([ints(table[:, 1]), ints(table[:, 2])], axis=1)
    unique_pairs, pair_index = np.unique(pair_keys, axis=0, return_inverse=True)
    codes: dict[str, Ints] = {"overall": np.zeros(len(table), dtype=np.int64)}
    labels: dict[str, list[str]] = {"overall": ["all"]}
    for position, name in enumerate(dims, start=4):
        names, inverse = np.unique(table[:, position].astype(str), return_inverse=True)
        codes[name], labels[name] = inverse.astype(np.int64).reshape(-1), [str(v) for v in names]
    return Frame(
        facts=facts,
        observation_ids=ints(table[:, 0]),
        pair_index=pair_index.astype(np.int64).reshape(-1),
        pairs=[(int(a), int(b)) for a, b in unique_pairs.reshape(-1, 2)],
        weight=floats(table[:, 3]),
        codes=codes,
        labels=labels,
    )
