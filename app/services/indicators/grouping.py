"""Sufficient statistics per pair, disaggregation and group: SQL selects the rows, numpy sums them per group.

The database joins, filters and evaluates each metric for every row (a decision, a sale, a firm round): set-based
work it does well. Summing 650,000 rows into six disaggregations of ~40 groups each is not: a ``GROUP BY`` over the
rows crossed with the disaggregations makes SQLite sort six copies of every row with all its metrics, and costs
many times what ``numpy.bincount`` does on the same columns (docs/benchmarks.md). So each query returns compact
columns (the observation id, the extra keys, the 0/1 metrics packed two bits each into integers, the other metrics
as floats; integers 0-14 such as Likert scores packed four bits each), and the groups and weights come from the
``Frame``. Every step over rows is a vectorised operation.

For a metric y over the rows where it is defined: n, Σw, Σw², Σw·y, Σw·y² and the same with w = 1, as ``Sums``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import BigInteger, ColumnElement, Float, cast, func, literal_column
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import FromClause

from app.indicators.catalogue import DISAGGREGATIONS
from app.indicators.sums import Sums
from app.services.indicators.frame import Floats, Frame, Ints, Objects, floats, ints, select_rows
from app.services.indicators.sql import FLAG_SUFFIX, SMALL_SUFFIX, Expr, Group, PairKey, SumsByMetric

WORD_BITS = 62  # bits of packed metrics in each signed 64-bit integer column


@dataclass(frozen=True)
class GroupSums:
    pair: PairKey
    group: Group
    keys: tuple[Any, ...]
    sums: SumsByMetric


@dataclass(frozen=True)
class _Field:
    """A packed metric: ``width`` bits at ``shift`` of integer column ``word`` (0 = NULL)."""

    name: str
    word: int
    shift: int
    width: int


def _layout(metrics: Mapping[str, Expr]) -> list[_Field]:
    """Flags take 2 bits (0 NULL, 1 zero, 3 one), small integers 4 bits (0 NULL, else y + 1), 62 bits a word."""
    fields: list[_Field] = []
    word, shift = 0, 0
    for name in metrics:
        width = 2 if name.endswith(FLAG_SUFFIX) else 4 if name.endswith(SMALL_SUFFIX) else 0
        if not width:
            continue
        if shift + width > WORD_BITS:
            word, shift = word + 1, 0
        fields.append(_Field(name, word, shift, width))
        shift += width
    return fields


def _words(fields: list[_Field], metrics: Mapping[str, Expr]) -> list[ColumnElement[Any]]:
    words: list[ColumnElement[Any]] = []
    for field in fields:
        y = metrics[field.name]
        one, two = literal_column("1", BigInteger), literal_column("2", BigInteger)
        code = cast(func.coalesce(one + two * y if field.width == 2 else y + one, 0), BigInteger)
        term = code * literal_column(str(2**field.shift), BigInteger)
        if field.word == len(words):
            words.append(term)
        else:
            words[field.word] = words[field.word] + term
    return words


def aggregate(
    session: Session,
    frame: Frame,
    metrics: Mapping[str, Expr],
    keys: Sequence[Expr] = (),
    *,
    source: FromClause | None = None,
    where: Sequence[ColumnElement[bool]] = (),
) -> list[GroupSums]:
    """Sums of every metric per (pair, disaggregation, group, *keys) over the rows of ``source`` (the facts)."""
    fields = _layout(metrics)
    packed = {field.name for field in fields}
    value_names = [name for name in metrics if name not in packed]
    words = _words(fields, metrics)
    values = [cast(metrics[name], Float) for name in value_names]
    table, at = select_rows(session, frame, [*keys, *words, *values], source, where)
    if not len(table):
        return []
    key_codes, key_values = _factorise(table[:, 1 : 1 + len(keys)])
    inputs = _Inputs(frame.weight[at])
    first_word = 1 + len(keys)
    word_columns = [ints(table[:, first_word + i]) for i in range(len(words))]
    for field in fields:
        code = (word_columns[field.word] >> field.shift) & (2**field.width - 1)
        if field.width == 2:
            inputs.flag(field.name, (code & 1).astype(np.float64), (code >> 1).astype(np.float64))
        else:
            inputs.value(field.name, np.where(code > 0, code - 1, np.nan).astype(np.float64))
    for index, name in enumerate(value_names):
        inputs.value(name, floats(table[:, first_word + len(words) + index]))
    pair = frame.pair_index[at]
    n_keys = len(key_values)
    out: list[GroupSums] = []
    for dim in DISAGGREGATIONS:
        labels = frame.labels[dim]
        combined = (pair * len(labels) + frame.codes[dim][at]) * n_keys + key_codes
        cells, inverse = np.unique(combined, return_inverse=True)
        per_metric = inputs.sums(inverse.reshape(-1), len(cells))
        extra, group = (cells % n_keys).tolist(), (cells // n_keys % len(labels)).tolist()
        pair_at = (cells // n_keys // len(labels)).tolist()
        out.extend(
            GroupSums(
                pair=frame.pairs[pair_at[i]],
                group=(dim, labels[group[i]]),
                keys=key_values[extra[i]],
                sums={name: sums[i] for name, sums in per_metric.items()},
            )
            for i in range(len(cells))
        )
    return out


def _factorise(keys: Objects) -> tuple[Ints, list[tuple[Any, ...]]]:
    """One integer code per row for the combination of its key values, and the values of each code."""
    if keys.shape[1] == 0:
        return np.zeros(len(keys), dtype=np.int64), [()]
    codes = np.zeros(len(keys), dtype=np.int64)
    values_of: list[list[Any]] = []
    for position in range(keys.shape[1]):
        values, inverse = np.unique(keys[:, position], return_inverse=True)
        codes = codes * len(values) + inverse.reshape(-1)
        values_of.append(values.tolist())
    combinations, inverse = np.unique(codes, return_inverse=True)
    out = []
    for combination in combinations.tolist():
        parts, rest = [], combination
        for values in reversed(values_of):
            rest, at = divmod(rest, len(values))
            parts.append(values[at])
        out.append(tuple(reversed(parts)))
    return inverse.astype(np.int64).reshape(-1), out


class _Inputs:
    """The per-row vectors whose group totals (``numpy.bincount``) are each metric's sums."""

    def __init__(self, weight: Floats) -> None:
        self.weight = weight
        self.squared = weight * weight
        self.flags: dict[str, tuple[Floats, Floats]] = {}
        self.values: dict[str, tuple[Floats, Floats]] = {}

    def flag(self, name: str, defined: Floats, value: Floats) -> None:
        self.flags[name] = (defined, value)

    def value(self, name: str, y: Floats) -> None:
        defined = ~np.isnan(y)
        self.values[name] = (defined.astype(np.float64), np.where(defined, y, 0.0))

    def sums(self, groups: Ints, size: int) -> dict[str, list[tuple[Sums, Sums]]]:
        def total(x: Floats | None = None) -> Floats:
            return np.bincount(groups, weights=x, minlength=size).astype(np.float64)

        everywhere = (total(), total(self.weight), total(self.squared))
        out: dict[str, list[tuple[Sums, Sums]]] = {}
        for name, (defined, y) in [*self.flags.items(), *self.values.items()]:
            if defined.all():
                n, sw, sw2 = everywhere
            else:
                n, sw, sw2 = total(defined), total(self.weight * defined), total(self.squared * defined)
            wy = self.weight * y
            swy, sy = total(wy), total(y)
            swy2, sy2 = (swy, sy) if name in self.flags else (total(wy * y), total(y * y))
            columns = zip(
                n.astype(np.int64).tolist(),
                n.tolist(),
                sw.tolist(),
                sw2.tolist(),
                swy.tolist(),
                swy2.tolist(),
                sy.tolist(),
                sy2.tolist(),
                strict=True,
            )
            out[name.removesuffix(FLAG_SUFFIX).removesuffix(SMALL_SUFFIX)] = [
                (Sums(count, a, b, c, d), Sums(count, whole, whole, e, f)) for count, whole, a, b, c, d, e, f in columns
            ]
        return out
