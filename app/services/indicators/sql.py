"""SQL building blocks: one pass over the rows of a pair gives every disaggregation's sufficient statistics.

The rows are joined to a tiny list of disaggregation names; ``CASE`` picks each row's group for that name, and one
``GROUP BY (disaggregation, group)`` returns n, sum w, sum w², sum w·y, sum w·y² (weighted) and sum y, sum y²
(unweighted) per metric.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Row,
    Select,
    String,
    case,
    cast,
    func,
    literal_column,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.expression import FromClause

from app.indicators.catalogue import DISAGGREGATIONS
from app.indicators.sums import Sums

Expr = ColumnElement[Any] | QueryableAttribute[Any]
Metrics = Mapping[str, Expr]
Group = tuple[str, str]
PairKey = tuple[int, int]
SumsByMetric = dict[str, tuple[Sums, Sums]]  # metric -> (weighted, unweighted)


def yes(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """1 where the condition holds, else 0: a flag metric defined for every row."""
    return case((condition, 1), else_=0)


def when(condition: ColumnElement[bool], value: ColumnElement[Any]) -> ColumnElement[Any]:
    """``value`` where the condition holds, else NULL: the metric is not defined for that row."""
    return case((condition, value), else_=None)


def const(text: str) -> ColumnElement[str]:
    """An inline SQL string constant (internal names only): identical GROUP BY and SELECT expressions on PostgreSQL."""
    if "'" in text:
        raise ValueError("constants are plain names")
    return literal_column(f"'{text}'", String)


def dims_table() -> FromClause:
    parts = [select(const(name).label("dim")) for name in DISAGGREGATIONS]
    return union_all(*parts).subquery("dims")


def group_of(dims: FromClause, facts: FromClause) -> ColumnElement[str]:
    """The row's group under each disaggregation ('all' for overall)."""
    whens = [(dims.c.dim == const(name), cast(facts.c[name], String)) for name in DISAGGREGATIONS if name != "overall"]
    return case(*whens, else_=const("all"))


FLAG_SUFFIX = "__flag"  # a metric named so is 0/1 (or NULL): y² = y, so its squares are not aggregated


def sums_columns(metrics: Metrics, weight: Expr) -> list[ColumnElement[Any]]:
    columns: list[ColumnElement[Any]] = []
    for name, y in metrics.items():
        yf = cast(y, Float)
        defined = y.is_not(None)
        columns += [
            func.count(y).label(f"{name}__n"),
            func.sum(case((defined, weight), else_=None)).label(f"{name}__sw"),
            func.sum(case((defined, weight * weight), else_=None)).label(f"{name}__sw2"),
            func.sum(weight * yf).label(f"{name}__swy"),
            func.sum(yf).label(f"{name}__sy"),
        ]
        if not name.endswith(FLAG_SUFFIX):
            columns += [func.sum(weight * yf * yf).label(f"{name}__swy2"), func.sum(yf * yf).label(f"{name}__sy2")]
    return columns


def flags(metrics: Mapping[str, Expr], names: Sequence[str]) -> dict[str, Expr]:
    """Rename the 0/1 metrics ``names`` with the flag suffix (read back under their own names by ``read_sums``)."""
    return {f"{k}{FLAG_SUFFIX}" if k in names else k: v for k, v in metrics.items()}


def grouped(
    facts: FromClause,
    metrics: Metrics,
    weight: Expr,
    extra_keys: Sequence[Expr] = (),
    source: FromClause | None = None,
) -> Select[Any]:
    """SELECT chain, round, dim, grp, *extra_keys, sums… FROM source ⋈ dims GROUP BY all the keys."""
    dims = dims_table()
    grp = group_of(dims, facts).label("grp")
    base = source if source is not None else facts
    keys = [facts.c.chain_id, facts.c.round_id]
    return (
        select(*keys, dims.c.dim, grp, *extra_keys, *sums_columns(metrics, weight))
        .select_from(base.join(dims, true()))
        .group_by(*keys, dims.c.dim, grp, *extra_keys)
    )


def pair_of(row: Row[Any]) -> PairKey:
    return (row.chain_id, row.round_id)


def _f(value: Any) -> float:
    return float(value) if value is not None else 0.0


def read_sums(row: Row[Any], metrics: Sequence[str]) -> SumsByMetric:
    data = row._mapping
    out: SumsByMetric = {}
    for name in metrics:
        n = int(data[f"{name}__n"] or 0)
        swy, sy = _f(data[f"{name}__swy"]), _f(data[f"{name}__sy"])
        flag = name.endswith(FLAG_SUFFIX)
        swy2, sy2 = (swy, sy) if flag else (_f(data[f"{name}__swy2"]), _f(data[f"{name}__sy2"]))
        weighted = Sums(n, _f(data[f"{name}__sw"]), _f(data[f"{name}__sw2"]), swy, swy2)
        unweighted = Sums(n, float(n), float(n), sy, sy2)
        out[name.removesuffix(FLAG_SUFFIX)] = (weighted, unweighted)
    return out


def by_weighting(pair: tuple[Sums, Sums]) -> list[tuple[str, Sums]]:
    return [("weighted", pair[0]), ("unweighted", pair[1])]
