"""Weighted shares and means with the confidence intervals of ../shared/docs/indicators.md §2.

Shares use the Wilson score interval on the Kish effective sample size; differences of shares use Newcombe's
hybrid score interval (method 10); means and differences of means use a t interval with Welch-Satterthwaite
degrees of freedom. Inputs are plain sequences: the database aggregates, this module only does the arithmetic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Z95 = 1.959964
CONFIDENCE = 0.95


def t_quantile(df: float) -> float:
    """The two-sided 95% quantile of Student's t on ``df`` (real-valued) degrees of freedom.

    scipy is imported on first use: web processes, which never compute an interval, do not load it.
    """
    from scipy.special import stdtrit  # noqa: PLC0415 - see above

    return float(stdtrit(df, 0.5 + CONFIDENCE / 2))


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


@dataclass(frozen=True)
class Share:
    value: float
    n: int
    n_eff: float
    ci: Interval


@dataclass(frozen=True)
class Mean:
    value: float
    n: int
    n_eff: float
    variance: float  # s², with the n_eff / (n_eff - 1) correction
    ci: Interval | None  # None when fewer than two effective observations


@dataclass(frozen=True)
class Difference:
    value: float
    se: float
    df: float | None  # Welch-Satterthwaite nu; None for shares
    ci: Interval


def _check(values: Sequence[float], weights: Sequence[float] | None) -> Sequence[float]:
    w = weights if weights is not None else [1.0] * len(values)
    if len(w) != len(values):
        raise ValueError("values and weights differ in length")
    if any(x < 0 for x in w):
        raise ValueError("weights must not be negative")
    return w


def effective_n(weights: Sequence[float]) -> float:
    """Kish: (Σw)² / Σw²; equals the count when every weight is 1."""
    total, squares = sum(weights), sum(x * x for x in weights)
    return total * total / squares if squares else 0.0


def wilson(p: float, n: float, z: float = Z95) -> Interval:
    if n <= 0:
        return Interval(0.0, 1.0)
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def share(outcomes: Sequence[bool | int], weights: Sequence[float] | None = None) -> Share:
    """Weighted share of true outcomes, with its Wilson interval on n_eff."""
    w = _check([float(y) for y in outcomes], weights)
    total = sum(w)
    if not outcomes or total == 0:
        return Share(math.nan, len(outcomes), 0.0, Interval(0.0, 1.0))
    p = sum(wi for yi, wi in zip(outcomes, w, strict=True) if yi) / total
    n_eff = effective_n(w)
    return Share(p, len(outcomes), n_eff, wilson(p, n_eff))


def share_difference(first: Share, second: Share) -> Difference:
    """p1 - p2 with Newcombe's hybrid score interval built from the two Wilson intervals."""
    d = first.value - second.value
    low = d - math.sqrt((first.value - first.ci.low) ** 2 + (second.ci.high - second.value) ** 2)
    high = d + math.sqrt((first.ci.high - first.value) ** 2 + (second.value - second.ci.low) ** 2)
    return Difference(d, math.nan, None, Interval(low, high))


def mean(values: Sequence[float], weights: Sequence[float] | None = None) -> Mean:
    w = _check(values, weights)
    total = sum(w)
    if not values or total == 0:
        return Mean(math.nan, len(values), 0.0, math.nan, None)
    m = sum(x * wi for x, wi in zip(values, w, strict=True)) / total
    n_eff = effective_n(w)
    if n_eff <= 1:
        return Mean(m, len(values), n_eff, math.nan, None)
    variance = sum(wi * (x - m) ** 2 for x, wi in zip(values, w, strict=True)) / total * n_eff / (n_eff - 1)
    half = t_quantile(n_eff - 1) * math.sqrt(variance / n_eff)
    return Mean(m, len(values), n_eff, variance, Interval(m - half, m + half))


def mean_difference(first: Mean, second: Mean) -> Difference | None:
    """Welch: mean1 - mean2, SE = sqrt(s1²/n1 + s2²/n2), t quantile on Welch-Satterthwaite nu (n = n_eff)."""
    if first.n_eff <= 1 or second.n_eff <= 1:
        return None
    v1, v2 = first.variance / first.n_eff, second.variance / second.n_eff
    se = math.sqrt(v1 + v2)
    d = first.value - second.value
    if se == 0:
        return Difference(d, 0.0, None, Interval(d, d))
    df = (v1 + v2) ** 2 / (v1 * v1 / (first.n_eff - 1) + v2 * v2 / (second.n_eff - 1))
    half = t_quantile(df) * se
    return Difference(d, se, df, Interval(d - half, d + half))


def weighted_median(values: Sequence[float], weights: Sequence[float] | None = None) -> float:
    """The smallest x whose cumulative weight reaches half the total; NaN when there is no weight."""
    w = _check(values, weights)
    total = sum(w)
    if total == 0:
        return math.nan
    cumulative = 0.0
    for x, wi in sorted(zip(values, w, strict=True)):
        cumulative += wi
        if cumulative >= total / 2:
            return x
    return max(values)
