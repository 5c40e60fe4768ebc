"""Every stored indicator result of a hand-built panel against the independent reference of expected.py.

The panel goes through the real pipeline once per flavour (weighted, or every weight 1): OpenRosa POSTs,
processing, design weights; the indicators are computed and stored as the job does it. The rows are then compared
family by family, a family being (code, measure, part) with part the overall results, the groups of every
disaggregation, or the group contrasts. Both directions: every expected row must be stored with the same value,
interval, n, n_eff and suppression flag, and every stored row with a value must be expected.

Where the store disagrees with the contract, only the rows concerned are split off into a strict xfail (see
DISAGREEMENTS), so the disagreement stays visible and the test fails once it is resolved.
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
from tests.indicators.expected import CONTRASTED, CONTRASTS, Key, Row, expected_rows
from tests.indicators.loader import load_panel
from tests.indicators.panel import FirmSpec, make_panel

SEED, FIRMS = 7, 60
REL, ABS = 1e-9, 1e-9
SUPPRESS_BELOW = 30  # indicators.md §1
CODES = {*(f"UPG-{i:02d}" for i in range(1, 19)), "RET-01", "RET-02", "RET-03"}
PANEL_CODES = {"UPG-08", "UPG-09", "UPG-15", "RET-02", "RET-03"}  # and UPG-16's rate and transitions
MEASURES = {
    "UPG-01": ("share",),
    "UPG-02": ("share",),
    "UPG-03": ("share",),
    "UPG-04": ("share", "count"),
    "UPG-05": ("mean", "mean_among_appliers", "index"),
    "UPG-06": ("mean", "share_at", "multi_type_share"),
    "UPG-07": ("share",),
    "UPG-08": ("share",),
    "UPG-09": ("share",),
    "UPG-10": ("aware_share", "gap"),
    "UPG-11": ("main_share", "category_share", "mention_share"),
    "UPG-12": ("mean", "top2_share", "net_attractiveness"),
    "UPG-13": ("median", "share"),
    "UPG-14": ("firm_share", "value_share"),
    "UPG-15": ("share",),
    "UPG-16": ("share", "upgrading_rate", "transition_share"),
    "UPG-17": ("share",),
    "UPG-18": ("unit_price", "premium", "value_share"),
    "RET-01": ("difference",),
    "RET-02": ("mean", "median"),
    "RET-03": ("did", "did_associational"),
}
FAMILIES = {
    *((code, measure, part) for code, ms in MEASURES.items() for measure in ms for part in ("overall", "groups")),
    *((code, "difference", "contrasts") for code, _ in CONTRASTED),
}


@dataclass(frozen=True)
class Disagreement:
    rows: str  # "all" the family's rows, or "zero": its expected zero shares
    panels: tuple[bool, ...]  # the flavours (weighted?) whose data show it
    reason: str


NET = (
    "UPG-12 net attractiveness: the contract says 'mean benefit - mean risk' (each mean over the decisions with that "
    "score; a difference of two means, Welch interval); the store has the mean of benefit - risk over the decisions "
    "with both scores (paired t interval, n = decisions with both), so value, CI and n differ"
)
MEDIAN_GROUPS = (
    "§1: every indicator is disaggregated where the data exist; the medians (UPG-13 investment cost, RET-02 change) "
    "are stored for the overall group only (a choice docs/indicators.md states, the contract does not)"
)
TRANSITION_GROUPS = "§1: every indicator is disaggregated; the UPG-16 transition matrix is stored overall only"
EMPTY_CELLS = "UPG-16 transition matrix: the cells no firm moved to (share 0, with its Wilson CI) are not stored"
EMPTY_SOURCES = (
    "UPG-13 financing shares: a source no applied decision of the group used (share 0) is not stored, unlike the "
    "zero shares of UPG-04, UPG-11 and UPG-16"
)
BOTH = (True, False)
DISAGREEMENTS: dict[tuple[str, str, str], Disagreement] = {}  # none left: the store follows the contract


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


def family_of(key: Key) -> tuple[str, str, str]:
    disaggregation, group = key[4], key[5]
    contrast = "-".join(CONTRASTS.get(disaggregation, ()))
    return key[1], key[2], "overall" if disaggregation == "overall" else "contrasts" if group == contrast else "groups"


def in_slice(data: Observed, key: Key, rows: str) -> bool:
    zero = key in data.expected and data.expected[key].value == 0
    return rows == "all" or (rows == "zero") == zero


def compute_and_read(app: Flask) -> tuple[dict[Key, Stored], list[Key]]:
    """Compute and store every (chain, round) pair as the job does; read all the stored rows back."""
    with app.app_context():
        with transaction(snapshot=True) as session:
            computed = read_pairs(session, pairs_to_compute(session))
        for result in computed:
            with transaction(write=True) as session:
                assert store(session, result)
        stored: dict[Key, Stored] = {}
        duplicates: list[Key] = []
        with transaction() as session:
            rounds = dict(session.execute(select(SurveyRound.id, SurveyRound.code)).all())
            for r in session.scalars(select(IndicatorResult)):
                key = (rounds[r.round_id], r.code, r.measure, r.subject, r.disaggregation, r.group_value, r.weighting)
                duplicates += [key] if key in stored else []
                stored[key] = Stored(_f(r.value), _f(r.ci_low), _f(r.ci_high), r.n, _f(r.n_eff), r.suppressed)
    return stored, duplicates


def _f(x: Any) -> float | None:
    return None if x is None else float(x)


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=REL, abs_tol=ABS)


def compare(expected: dict[Key, Row], stored: dict[Key, Stored], keys: set[Key]) -> list[str]:
    """What differs between the reference and the store over ``keys``, in both directions."""
    problems = []
    for key in sorted(keys):
        e, s = expected.get(key), stored.get(key)
        if e is None:
            if s is not None and s.value is not None:
                problems.append(f"{key}: stored {s.value} (n={s.n}) but no result expected")
            continue
        if s is None:
            problems.append(f"{key}: expected {e.value} (n={e.n}) but not stored")
            continue
        got, want = (s.value, s.ci_low, s.ci_high), (e.value, e.ci_low, e.ci_high)
        if not all(_close(x, y) for x, y in zip(got, want, strict=True)):
            problems.append(f"{key}: stored (value, ci_low, ci_high) {got}, expected {want}")
        if s.n != e.n or (e.n_eff is not None and not _close(s.n_eff, e.n_eff)):
            problems.append(f"{key}: stored n={s.n} n_eff={s.n_eff}, expected n={e.n} n_eff={e.n_eff}")
        if s.suppressed != (s.n < SUPPRESS_BELOW):
            problems.append(f"{key}: suppressed={s.suppressed} with n={s.n}")
    return problems


@pytest.fixture(scope="module")
def panels() -> dict[bool, Observed | Exception]:
    """The loaded panels by flavour, filled by the first test that needs one (loading one takes seconds)."""
    return {}


def with_edge_cases(firms: list[FirmSpec]) -> list[FirmSpec]:
    """Cases the generator never makes: a used practice the firm says it is not aware of, a main reason out of UPG-11's
    scope, a round without sales or without functions, a sale of quantity 0, a participant status changing."""
    both = [f for f in firms if "R1" in f.visits]
    for firm in firms[::7]:
        for decision in (d for v in firm.visits.values() for d in v.decisions if d.status != "not_adopted"):
            decision.aware = False
    for firm in firms[1::3]:
        for decision in (d for v in firm.visits.values() for d in v.decisions if not (d.aware or d.main)):
            decision.main, decision.others = "too_risky", ["not_aware"]
    both[0].visits["R1"].sale_rows, both[1].visits["R0"].sale_rows = [], []
    both[1].visits["R1"].sale_rows = [("broker", 12.5, both[1].visits["R1"].sales)]  # from no market to tier 1
    both[2].visits["R0"].functions, both[3].visits["R1"].functions = [], []
    market, _, value = both[4].visits["R1"].sale_rows[0]
    both[4].visits["R1"].sale_rows[0] = (market, 0, value)
    r1 = both[5].visits["R1"]
    r1.participant = "comparison" if r1.participant == "participant" else "participant"
    return firms


def observed(request: pytest.FixtureRequest, panels: dict[bool, Observed | Exception], weighted: bool) -> Observed:
    if weighted not in panels:
        try:
            app, client, factory = (request.getfixturevalue(name) for name in ("app", "client", "factory"))
            firms = with_edge_cases(make_panel(SEED, FIRMS, weighted))
            load_panel(app, client, factory, firms)
            panels[weighted] = Observed(expected_rows(firms), *compute_and_read(app))
        except Exception as error:
            panels[weighted] = error  # the other tests of the flavour fail at once instead of loading it again
            raise
    data = panels[weighted]
    if isinstance(data, Exception):
        pytest.fail(f"loading the panel failed: {data!r}")
    return data


def _params() -> list[Any]:
    params = []
    for weighted in (True, False):
        flavour = "weighted" if weighted else "unweighted"
        for family in sorted(FAMILIES):
            name, known = f"{flavour}-{'-'.join(family)}", DISAGREEMENTS.get(family)
            if known is None or weighted not in known.panels:
                params.append(pytest.param(weighted, family, "all", id=name))
                continue
            if known.rows == "zero":
                params.append(pytest.param(weighted, family, "nonzero", id=f"{name}-nonzero"))
            marks = pytest.mark.xfail(strict=True, reason=known.reason)
            params.append(pytest.param(weighted, family, known.rows, marks=marks, id=f"{name}-{known.rows}"))
    return params


@pytest.mark.parametrize(("weighted", "family", "rows"), _params())
def test_stored_values_match_the_reference(
    request: pytest.FixtureRequest,
    panels: dict[bool, Observed | Exception],
    weighted: bool,
    family: tuple[str, str, str],
    rows: str,
) -> None:
    data = observed(request, panels, weighted)
    keys = {k for k in {*data.expected, *data.stored} if family_of(k) == family and in_slice(data, k, rows)}
    assert any(k in data.expected for k in keys), f"the reference has no {family} result"
    problems = compare(data.expected, data.stored, keys)
    assert not problems, f"{len(problems)} disagreements, the first ones:\n" + "\n".join(problems[:12])


def _is_panel(key: Key) -> bool:
    upg16 = key[1] == "UPG-16" and (key[2] in {"upgrading_rate", "transition_share"} or key[3] == "upgrading_rate")
    return key[1] in PANEL_CODES or upg16


@pytest.mark.parametrize("weighted", [True, False], ids=["weighted", "unweighted"])
def test_every_indicator_is_stored_and_the_panel_ones_only_after_baseline(
    request: pytest.FixtureRequest, panels: dict[bool, Observed | Exception], weighted: bool
) -> None:
    data = observed(request, panels, weighted)
    assert not data.duplicates
    r0, r1 = ({k for k in data.stored if k[0] == rnd and data.stored[k].value is not None} for rnd in ("R0", "R1"))
    assert {k[1] for k in r1} == CODES
    assert {k[2] for k in r1 if k[1] == "UPG-16"} >= {"upgrading_rate", "transition_share"}
    assert not [k for k in r0 if _is_panel(k)]
    assert {k[1:3] for k in r0} == {k[1:3] for k in r1 if not _is_panel(k)}
    assert {k[:6] for k in data.stored if k[6] == "weighted"} == {k[:6] for k in data.stored if k[6] == "unweighted"}
    assert {family_of(k) for k in (*data.stored, *data.expected)} == FAMILIES, "a family of results is not compared"
    for family, known in DISAGREEMENTS.items():  # a strict xfail must fail for its own reason: its rows exist
        if weighted in known.panels:
            assert any(family_of(k) == family and in_slice(data, k, known.rows) for k in data.expected), family


def test_the_comparison_fails_on_a_missing_an_unexpected_or_a_different_row(
    request: pytest.FixtureRequest, panels: dict[bool, Observed | Exception]
) -> None:
    data = observed(request, panels, True)
    families = {
        ("UPG-01", "share", "overall"),
        ("RET-01", "difference", "groups"),
        ("UPG-03", "difference", "contrasts"),
    }
    keys = {k for k in data.expected if family_of(k) in families}
    stored = {k: data.stored[k] for k in keys}
    assert compare(data.expected, stored, keys) == []
    first = min(keys)
    last = max(k for k in keys if stored[k].value and stored[k].ci_high is not None)
    missing = {k: v for k, v in stored.items() if k != first}
    assert compare(data.expected, missing, keys) == [
        f"{first}: expected {data.expected[first].value} (n={data.expected[first].n}) but not stored"
    ]
    unexpected = (*first[:3], "nonesuch", *first[4:])
    assert len(compare(data.expected, {**stored, unexpected: stored[first]}, {*keys, unexpected})) == 1
    old = stored[last]
    for changed in (
        Stored((old.value or 0.0) * (1 + 1e-7) + 1e-7, old.ci_low, old.ci_high, old.n, old.n_eff, old.suppressed),
        Stored(old.value, old.ci_low, None, old.n, old.n_eff, old.suppressed),
        Stored(old.value, old.ci_low, old.ci_high, old.n + 1, old.n_eff, old.suppressed),
        Stored(old.value, old.ci_low, old.ci_high, old.n, old.n_eff, not old.suppressed),
    ):
        assert len(compare(data.expected, {**stored, last: changed}, keys)) == 1, changed
