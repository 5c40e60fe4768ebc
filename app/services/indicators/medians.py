"""Weighted and unweighted medians per pair and group: SQL selects the values, numpy sorts them within groups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import ColumnElement, Float, cast
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import FromClause

from app.indicators.catalogue import DISAGGREGATIONS
from app.services.indicators.frame import Floats, Frame, Ints, floats, select_rows
from app.services.indicators.sql import Expr, Group, PairKey


@dataclass(frozen=True)
class GroupMedian:
    pair: PairKey
    group: Group
    weighted: float
    unweighted: float
    n: int


def medians(
    session: Session, frame: Frame, x: Expr, source: FromClause | None = None, where: Sequence[ColumnElement[bool]] = ()
) -> list[GroupMedian]:
    """Per pair and group: the smallest x whose cumulative weight (count) reaches half the group's total."""
    table, at = select_rows(session, frame, [cast(x, Float)], source, [x.is_not(None), *where])
    if not len(table):
        return []
    values, weight, pair = floats(table[:, 1]), frame.weight[at], frame.pair_index[at]
    out: list[GroupMedian] = []
    for dim in DISAGGREGATIONS:
        n_groups = len(frame.labels[dim])
        cell = pair * n_groups + frame.codes[dim][at]
        order = np.lexsort((values, cell))
        cell, x_sorted, w_sorted = cell[order], values[order], weight[order]
        starts = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]])
        sizes = np.diff(np.r_[starts, len(cell)])
        member = np.repeat(np.arange(len(starts)), sizes)
        position = np.arange(len(cell)) - starts[member]
        cumulative = np.cumsum(w_sorted)
        within = cumulative - (cumulative[starts] - w_sorted[starts])[member]
        totals = np.add.reduceat(w_sorted, starts)
        weighted = _first(x_sorted, within >= totals[member] / 2.0, starts).tolist()
        unweighted = _first(x_sorted, position + 1 >= sizes[member] / 2.0, starts).tolist()
        codes, counts = cell[starts].tolist(), sizes.tolist()
        out.extend(
            GroupMedian(
                pair=frame.pairs[code // n_groups],
                group=(dim, frame.labels[dim][code % n_groups]),
                weighted=weighted[i],
                unweighted=unweighted[i],
                n=counts[i],
            )
            for i, code in enumerate(codes)
        )
    return out


def _first(values: Floats, reached: NDArray[np.bool_], starts: Ints) -> Floats:
    """Per group (rows sorted by value, groups beginning at ``starts``): the value of the first row that reached."""
    positions = np.where(reached, np.arange(len(values)), len(values))
    first = np.minimum.reduceat(positions, starts)
    return values[np.minimum(first, len(values) - 1)]
