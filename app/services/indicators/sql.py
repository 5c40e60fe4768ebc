"""SQL building blocks of the metrics: each query evaluates its metrics for every row; grouping.py sums them.

A metric is an SQL expression per row: a value, or NULL where the metric is not defined for that row. A metric
named with ``FLAG_SUFFIX`` is 0/1 (or NULL): its squares equal itself, and grouping.py packs it into two bits;
one named with ``SMALL_SUFFIX`` is an integer from 0 to 14 (or NULL), packed into four bits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, case
from sqlalchemy.orm import QueryableAttribute

from app.indicators.sums import Sums

Expr = ColumnElement[Any] | QueryableAttribute[Any]
Group = tuple[str, str]
PairKey = tuple[int, int]
SumsByMetric = dict[str, tuple[Sums, Sums]]  # metric -> (weighted, unweighted)
FLAG_SUFFIX = "__flag"
SMALL_SUFFIX = "__small"  # an integer 0-14 (or NULL), such as a 1-5 score: packed in four bits


def yes(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """1 where the condition holds, else 0: a flag metric defined for every row."""
    return case((condition, 1), else_=0)


def when(condition: ColumnElement[bool], value: ColumnElement[Any]) -> ColumnElement[Any]:
    """``value`` where the condition holds, else NULL: the metric is not defined for that row."""
    return case((condition, value), else_=None)


def flags(metrics: Mapping[str, Expr], names: Sequence[str]) -> dict[str, Expr]:
    """Rename the 0/1 metrics ``names`` with the flag suffix (the sums come back under their own names)."""
    return {f"{k}{FLAG_SUFFIX}" if k in names else k: v for k, v in metrics.items()}


def small(metrics: Mapping[str, Expr], names: Sequence[str]) -> dict[str, Expr]:
    """Rename the metrics ``names``, integers 0-14, with the small suffix (read back under their own names)."""
    return {f"{k}{SMALL_SUFFIX}" if k in names else k: v for k, v in metrics.items()}
