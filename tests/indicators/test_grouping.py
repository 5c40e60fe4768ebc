"""The grouping engine against plain Python: SQL selects rows, numpy sums them per pair, disaggregation and group.

A temporary facts table of random firm rounds (two pairs, weights, every disaggregation, NULLs) is summed by
``aggregate`` and ``medians`` and by loops written here from the definitions: n, Σw, Σw², Σw·y, Σw·y² over the
rows where y is defined, weighted and unweighted; the weighted median is the smallest value whose cumulative weight
reaches half the group's.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Float, Integer, String, literal, select, union_all

from app.db import transaction
from app.indicators.catalogue import DISAGGREGATIONS
from app.services.indicators.frame import load_frame
from app.services.indicators.grouping import aggregate
from app.services.indicators.medians import medians
from app.services.indicators.sql import flags, small, when, yes
from app.services.indicators.temp import create_temp, drop_temp

DIMS = [d for d in DISAGGREGATIONS if d != "overall"]
VALUES = {
    "owner_gender": ["female", "male", "unknown"],
    "size_class": ["micro", "small", "medium"],
    "participant_status": ["participant", "comparison"],
    "admin1": ["Nakuru", "Meru", "Kisii", "Embu"],
    "urban_rural": ["urban", "rural"],
}


def _rows(seed: int = 3, count: int = 90) -> list[dict[str, Any]]:
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    rows = []
    for i in range(count):
        row: dict[str, Any] = {
            "observation_id": 1000 + 7 * i,  # not dense, not starting at 0
            "chain_id": 1 + i % 2,
            "round_id": 5,
            "w": round(rng.uniform(0.3, 3.0), 3),
            "tier": rng.choice([1, 2, 3]),
            "score": rng.choice([None, 1, 2, 3, 4, 5]),
            "money": rng.choice([None, round(rng.uniform(-50, 500), 2)]),
            "applied": rng.random() < 0.4,
        }
        row |= {dim: rng.choice(VALUES[dim]) for dim in DIMS}
        rows.append(row)
    return rows


def _facts_query(rows: list[dict[str, Any]]) -> Any:
    types = {"w": Float, "money": Float, "applied": Integer, "score": Integer, "tier": Integer}
    parts = []
    for row in rows:
        values: list[Any] = []
        for name, value in row.items():
            kind = types.get(name, String if isinstance(value, str) else Integer)
            raw = int(value) if isinstance(value, bool) else value
            values.append(literal(raw, kind).label(name))
        parts.append(select(*values))
    return union_all(*parts)


def _group(row: dict[str, Any], dim: str) -> str:
    return "all" if dim == "overall" else str(row[dim])


def _expected_sums(rows: list[dict[str, Any]], value: Any) -> dict[tuple[Any, ...], tuple[float, ...]]:
    out: dict[tuple[Any, ...], list[float]] = defaultdict(lambda: [0.0] * 7)
    for row in rows:
        y = value(row)
        for dim in DISAGGREGATIONS:
            key = ((row["chain_id"], row["round_id"]), (dim, _group(row, dim)), row["tier"])
            sums = out[key]
            if y is None:
                continue
            w = row["w"]
            for i, part in enumerate((1, w, w * w, w * y, w * y * y, y, y * y)):
                sums[i] += part
    return {k: tuple(v) for k, v in out.items()}


@pytest.fixture
def facts(app: Flask) -> Any:
    rows = _rows()
    with app.app_context(), transaction() as session:
        table = create_temp(session, "test_facts", _facts_query(rows), ["observation_id"])
        yield session, table, rows
        drop_temp(session, "test_facts")


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)


def test_sums_of_flags_small_integers_and_floats_per_group_and_key(facts: Any) -> None:
    session, table, rows = facts
    c = table.c
    frame = load_frame(session, table)
    metrics = flags(
        small(
            {
                "applied": yes(c.applied == 1),
                "applied_when_scored": when(c.score.is_not(None), c.applied),
                "score": c.score,
                "money": c.money,
            },
            ["score"],
        ),
        ["applied", "applied_when_scored"],
    )
    cells = aggregate(session, frame, metrics, [c.tier])
    definitions = {
        "applied": lambda r: 1.0 if r["applied"] else 0.0,
        "applied_when_scored": lambda r: None if r["score"] is None else float(r["applied"]),
        "score": lambda r: r["score"],
        "money": lambda r: r["money"],
    }
    assert cells
    for name, value in definitions.items():
        expected = _expected_sums(rows, value)
        got = {(cell.pair, cell.group, cell.keys[0]): cell.sums[name] for cell in cells}
        assert set(got) == set(expected), name  # every (pair, group, tier) with a row, and no other
        for key, (n, sw, sw2, swy, swy2, sy, sy2) in expected.items():
            weighted, unweighted = got[key]
            assert weighted.n == unweighted.n == n, (name, key)
            pairs = zip((weighted.sw, weighted.sw2, weighted.swy, weighted.swy2), (sw, sw2, swy, swy2), strict=True)
            assert all(_close(a, b) for a, b in pairs), (name, key, weighted)
            assert _close(unweighted.sw, n) and _close(unweighted.sw2, n), (name, key)
            assert _close(unweighted.swy, sy) and _close(unweighted.swy2, sy2), (name, key, unweighted)


def test_weighted_and_unweighted_medians_per_group(facts: Any) -> None:
    session, table, rows = facts
    frame = load_frame(session, table)
    got = {(m.pair, m.group): (m.weighted, m.unweighted, m.n) for m in medians(session, frame, table.c.money)}
    expected = {}
    for pair in {(r["chain_id"], r["round_id"]) for r in rows}:
        for dim in DISAGGREGATIONS:
            for group in {_group(r, dim) for r in rows}:
                members = [
                    r
                    for r in rows
                    if (r["chain_id"], r["round_id"]) == pair and _group(r, dim) == group and r["money"] is not None
                ]
                if members:
                    expected[(pair, (dim, group))] = (
                        _median(members, lambda r: r["w"]),
                        _median(members, lambda _: 1.0),
                        len(members),
                    )
    assert set(got) == set(expected)
    for key, (weighted, unweighted, n) in expected.items():
        assert got[key][2] == n, key
        assert _close(got[key][0], weighted) and _close(got[key][1], unweighted), (key, got[key], weighted, unweighted)


def _median(members: list[dict[str, Any]], weight: Any) -> float:
    ordered = sorted(members, key=lambda r: r["money"])
    total = sum(weight(r) for r in ordered)
    running = 0.0
    for r in ordered:
        running += weight(r)
        if running >= total / 2:
            return float(r["money"])
    raise AssertionError("unreachable")
