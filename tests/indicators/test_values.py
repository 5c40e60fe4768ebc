"""Every stored indicator result of a hand-built panel against the independent reference of expected.py.

The panel goes through the real pipeline once per panel flavour (OpenRosa POSTs, processing, design weights), the
indicators are computed and stored as the job does it, and the rows are then compared family by family, where a
family is (code, measure, part) and part is the overall results, the groups of every disaggregation, or the group
contrasts. Both directions: every expected row must be stored with the same value, interval, n, n_eff and
suppression flag, and every stored row with a value must be expected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.db import transaction
from app.models import IndicatorResult, SurveyRound
from app.services.indicators.refresh import pairs_to_compute, read_pairs, store
from tests.indicators.expected import CONTRASTS, Key, Row, expected_rows
from tests.indicators.loader import load_panel
from tests.indicators.panel import make_panel

SEED, FIRMS = 7, 60
REL, ABS = 1e-9, 1e-9
SUPPRESS_BELOW = 30  # indicators.md §1
CODES = (*(f"UPG-{i:02d}" for i in range(1, 19)), "RET-01", "RET-02", "RET-03")
PANEL_ONLY = {  # (code, measure) that need the earlier round: absent at baseline
    ("UPG-08", "share"),
    ("UPG-09", "share"),
    ("UPG-15", "share"),
    ("UPG-16", "upgrading_rate"),
    ("UPG-16", "transition_share"),
    ("RET-02", "mean"),
    ("RET-02", "median"),
    ("RET-03", "did"),
    ("RET-03", "did_associational"),
}
GROUPED = (
    *(("UPG-01", m) for m in ("share",)),
    ("UPG-02", "share"),
    ("UPG-03", "share"),
    ("UPG-04", "share"),
    ("UPG-04", "count"),
    ("UPG-05", "mean"),
    ("UPG-05", "mean_among_appliers"),
    ("UPG-05", "index"),
    ("UPG-06", "mean"),
    ("UPG-06", "share_at"),
    ("UPG-06", "multi_type_share"),
    ("UPG-07", "share"),
    ("UPG-08", "share"),
    ("UPG-09", "share"),
    ("UPG-10", "aware_share"),
    ("UPG-10", "gap"),
    ("UPG-11", "main_share"),
    ("UPG-11", "category_share"),
    ("UPG-11", "mention_share"),
    ("UPG-12", "mean"),
    ("UPG-12", "top2_share"),
    ("UPG-12", "net_attractiveness"),
    ("UPG-13", "median"),
    ("UPG-13", "share"),
    ("UPG-14", "firm_share"),
    ("UPG-14", "value_share"),
    ("UPG-15", "share"),
    ("UPG-16", "share"),
    ("UPG-16", "upgrading_rate"),
    ("UPG-16", "transition_share"),
    ("UPG-17", "share"),
    ("UPG-18", "unit_price"),
    ("UPG-18", "premium"),
    ("RET-01", "difference"),
    ("RET-02", "mean"),
    ("RET-02", "median"),
    ("RET-03", "did"),
    ("RET-03", "did_associational"),
)
CONTRASTED = ("UPG-01", "UPG-02", "UPG-03", "UPG-06", "UPG-14", "UPG-15", "UPG-16", "UPG-17")
FAMILIES = (
    *((code, measure, part) for code, measure in GROUPED for part in ("overall", "groups")),
    *((code, "difference", "contrasts") for code in CONTRASTED),
)
DISAGREEMENTS: dict[tuple[str, str, str], str] = {}


@dataclass(frozen=True)
class Stored:
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    n_eff: float | None
    suppressed: bool


@dataclass
class Observed:
    expected: dict[Key, Row]
    stored: dict[Key, Stored]
    duplicates: list[Key]


def part_of(key: Key) -> str:
    disaggregation, group = key[4], key[5]
    if disaggregation == "overall":
        return "overall"
    return "contrasts" if group == "-".join(CONTRASTS.get(disaggregation, ("", "?"))) else "groups"


def family_of(key: Key) -> tuple[str, str, str]:
    return key[1], key[2], part_of(key)


def compute_and_read(app: Flask) -> tuple[dict[Key, Stored], list[Key]]:
    """Compute every (chain, round) pair and store it as the job does; read back all stored rows."""
    with app.app_context():
        with transaction(snapshot=True) as session:
            computed = read_pairs(session, pairs_to_compute(session))
        for result in computed:
            with transaction(write=True) as session:
                assert store(session, result)
        with transaction() as session:
            rounds = dict(session.execute(select(SurveyRound.id, SurveyRound.code)).tuples().all())
            stored: dict[Key, Stored] = {}
            duplicates: list[Key] = []
            for r in session.scalars(select(IndicatorResult)):
                key = (rounds[r.round_id], r.code, r.measure, r.subject, r.disaggregation, r.group_value, r.weighting)
                if key in stored:
                    duplicates.append(key)
                stored[key] = Stored(_f(r.value), _f(r.ci_low), _f(r.ci_high), r.n, _f(r.n_eff), r.suppressed)
    return stored, duplicates


def _f(x: Any) -> float | None:
    return None if x is None else float(x)


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=REL, abs_tol=ABS)


def compare(expected: dict[Key, Row], stored: dict[Key, Stored], families: set[tuple[str, str, str]]) -> list[str]:
    """Disagreements between the reference and the store over the rows of ``families``, in both directions."""
    problems = []
    for key in sorted(set(expected) | set(stored)):
        if family_of(key) not in families:
            continue
        e, s = expected.get(key), stored.get(key)
        if e is None:
            if s is not None and s.value is not None:
                problems.append(f"{key}: stored {s.value} but no result expected")
            continue
        if s is None:
            problems.append(f"{key}: expected {e.value} (n={e.n}) but not stored")
            continue
        got = (s.value, s.ci_low, s.ci_high)
        if not all(_close(x, y) for x, y in zip(got, (e.value, e.ci_low, e.ci_high), strict=True)):
            problems.append(f"{key}: stored {got} expected {(e.value, e.ci_low, e.ci_high)}")
        if s.n != e.n or (e.n_eff is not None and not _close(s.n_eff, e.n_eff)):
            problems.append(f"{key}: stored n={s.n} n_eff={s.n_eff}, expected n={e.n} n_eff={e.n_eff}")
        if s.suppressed != (s.n < SUPPRESS_BELOW):
            problems.append(f"{key}: suppressed={s.suppressed} with n={s.n}")
    return problems


@pytest.fixture(scope="module")
def panels() -> dict[bool, Observed]:
    """Loaded panels by their weighted flag, filled by the first test that needs one (loading takes seconds)."""
    return {}


def observed(request: pytest.FixtureRequest, panels: dict[bool, Observed], weighted: bool) -> Observed:
    if weighted not in panels:
        app, client, factory = (request.getfixturevalue(name) for name in ("app", "client", "factory"))
        firms = make_panel(SEED, FIRMS, weighted)
        load_panel(app, client, factory, firms)
        stored, duplicates = compute_and_read(app)
        panels[weighted] = Observed(expected_rows(firms), stored, duplicates)
    return panels[weighted]


def _params() -> list[Any]:
    params = []
    for weighted in (True, False):
        for family in FAMILIES:
            reason = DISAGREEMENTS.get(family)
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            flavour = "weighted" if weighted else "unweighted"
            params.append(pytest.param(weighted, family, marks=marks, id=f"{flavour}-{'-'.join(family)}"))
    return params


@pytest.mark.parametrize(("weighted", "family"), _params())
def test_stored_values_match_the_reference(
    request: pytest.FixtureRequest, panels: dict[bool, Observed], weighted: bool, family: tuple[str, str, str]
) -> None:
    data = observed(request, panels, weighted)
    assert any(family_of(key) == family for key in data.expected), f"the reference has no {family} result"
    problems = compare(data.expected, data.stored, {family})
    assert not problems, f"{len(problems)} disagreements, first ones:\n" + "\n".join(problems[:15])


@pytest.mark.parametrize("weighted", [True, False], ids=["weighted", "unweighted"])
def test_every_indicator_is_stored_and_panel_ones_only_after_baseline(
    request: pytest.FixtureRequest, panels: dict[bool, Observed], weighted: bool
) -> None:
    data = observed(request, panels, weighted)
    assert not data.duplicates
    by_round = {rnd: {(k[1], k[2]) for k in data.stored if k[0] == rnd} for rnd in ("R0", "R1")}
    assert {code for code, _ in by_round["R1"]} == set(CODES)
    assert PANEL_ONLY <= by_round["R1"]
    assert not PANEL_ONLY & by_round["R0"]
    assert by_round["R0"] == by_round["R1"] - PANEL_ONLY
    for weighting in ("weighted", "unweighted"):
        assert {(k[0], k[1], k[2]) for k in data.stored if k[6] == weighting} == {
            (k[0], k[1], k[2]) for k in data.stored
        }
    every = {family_of(key) for key in (*data.stored, *data.expected)}
    assert every == set(FAMILIES), "a family of results is not compared"


def test_the_comparison_fails_on_a_missing_an_extra_or_a_different_row(
    request: pytest.FixtureRequest, panels: dict[bool, Observed]
) -> None:
    data = observed(request, panels, True)
    families = {("UPG-01", "share", "overall"), ("UPG-03", "difference", "contrasts")}
    keys = sorted(k for k in data.expected if family_of(k) in families)
    stored = {k: data.stored[k] for k in keys}
    assert compare(data.expected, stored, families) == []
    missing = dict(stored)
    del missing[keys[0]]
    assert compare(data.expected, missing, families) == [
        f"{keys[0]}: expected {data.expected[keys[0]].value} (n={data.expected[keys[0]].n}) but not stored"
    ]
    extra_key = (*keys[0][:3], "nonesuch", *keys[0][4:])
    extra = {**stored, extra_key: stored[keys[0]]}
    assert len(compare(data.expected, extra, families)) == 1
    shifted = dict(stored)
    old = stored[keys[-1]]
    shifted[keys[-1]] = Stored(old.value * (1 + 1e-7), old.ci_low, old.ci_high, old.n, old.n_eff, old.suppressed)
    assert len(compare(data.expected, shifted, families)) == 1
    fewer = {**stored, keys[1]: Stored(old.value, old.ci_low, old.ci_high, old.n - 1, old.n_eff, old.suppressed)}
    assert len(compare(data.expected, fewer, families)) >= 1
