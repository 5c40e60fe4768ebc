"""The statistics against the test vectors of ../shared/docs/indicators.md §2 (checked there with statsmodels
and scipy), plus weighting behaviour computed here by hand."""

from __future__ import annotations

import math

import pytest

from app.indicators.stats import effective_n, mean, mean_difference, share, share_difference, weighted_median, wilson

TOL = 5e-6


def _ci(interval: object) -> tuple[float, float]:
    return (interval.low, interval.high)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("x", "n", "expected"),
    [(7, 50, (0.069508, 0.261862)), (0, 50, (0.0, 0.071348)), (400, 1000, (0.370075, 0.430691))],
)
def test_wilson_vectors(x: int, n: int, expected: tuple[float, float]) -> None:
    assert _ci(wilson(x / n, n)) == pytest.approx(expected, abs=TOL)
    assert _ci(share([1] * x + [0] * (n - x)).ci) == pytest.approx(expected, abs=TOL)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [((120, 400), (80, 400), (0.040032, 0.159077)), ((5, 30), (0, 25), (0.004047, 0.335644))],
)
def test_newcombe_vectors(a: tuple[int, int], b: tuple[int, int], expected: tuple[float, float]) -> None:
    first = share([1] * a[0] + [0] * (a[1] - a[0]))
    second = share([1] * b[0] + [0] * (b[1] - b[0]))
    difference = share_difference(first, second)
    assert difference.value == pytest.approx(a[0] / a[1] - b[0] / b[1])
    assert _ci(difference.ci) == pytest.approx(expected, abs=TOL)


def test_welch_vector() -> None:
    participants = mean([120, 80, 150, 60, 90, 200, 110, 70, 130, 95])
    comparison = mean([40, 55, 30, 80, 20, 65, 50, 45])
    difference = mean_difference(participants, comparison)
    assert difference is not None
    assert difference.value == pytest.approx(62.375, abs=TOL)
    assert difference.se == pytest.approx(14.875667, abs=TOL)
    assert difference.df == pytest.approx(13.129127, abs=TOL)
    assert _ci(difference.ci) == pytest.approx((30.270176, 94.479824), abs=TOL)


def test_weights_change_the_share_and_shrink_the_effective_n() -> None:
    result = share([1, 0, 0, 1], [3.0, 1.0, 1.0, 1.0])
    assert result.value == pytest.approx(4 / 6)
    assert result.n == 4
    assert result.n_eff == pytest.approx(36 / 12)  # (Σw)² / Σw² = 36 / 12
    assert _ci(result.ci) == pytest.approx(_ci(wilson(4 / 6, 3.0)))
    assert effective_n([1.0] * 7) == pytest.approx(7)


def test_weighted_mean_variance_uses_the_effective_n() -> None:
    values, weights = [10.0, 20.0, 40.0], [1.0, 2.0, 1.0]
    result = mean(values, weights)
    m = (10 + 40 + 40) / 4
    n_eff = 16 / 6
    s2 = ((10 - m) ** 2 + 2 * (20 - m) ** 2 + (40 - m) ** 2) / 4 * n_eff / (n_eff - 1)
    assert result.value == pytest.approx(m)
    assert result.variance == pytest.approx(s2)
    assert result.ci is not None
    assert result.ci.high - result.value == pytest.approx(result.value - result.ci.low)


def test_weighted_median_and_empty_inputs() -> None:
    assert weighted_median([5.0, 1.0, 3.0]) == 3.0
    assert weighted_median([1.0, 2.0, 10.0], [1.0, 1.0, 3.0]) == 10.0
    assert math.isnan(weighted_median([], []))
    assert math.isnan(share([]).value)
    assert mean([4.0]).ci is None
    assert mean_difference(mean([1.0]), mean([1.0, 2.0])) is None
    with pytest.raises(ValueError, match="length"):
        share([1, 0], [1.0])
