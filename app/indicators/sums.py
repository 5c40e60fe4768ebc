"""Sufficient statistics of a weighted variable, as the database aggregates them, and the estimates built on them.

For a variable y over the units where it is defined, the database returns n, Σw, Σw², Σw·y and Σw·y² (and the same
with every w = 1 for the unweighted results). Those are additive over disjoint groups, so a share, a mean, their
intervals and Welch differences follow here with a few arithmetic operations: no per-unit data leaves the database.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.indicators.stats import Interval, t_quantile, wilson

SUPPRESS_BELOW = 30  # indicators.md §1: a result whose n < 30 is flagged suppressed


@dataclass(frozen=True)
class Sums:
    """n, Σw, Σw², Σw·y, Σw·y² over the units where y is defined."""

    n: int = 0
    sw: float = 0.0
    sw2: float = 0.0
    swy: float = 0.0
    swy2: float = 0.0

    def __add__(self, other: Sums) -> Sums:
        return Sums(
            self.n + other.n,
            self.sw + other.sw,
            self.sw2 + other.sw2,
            self.swy + other.swy,
            self.swy2 + other.swy2,
        )

    @property
    def n_eff(self) -> float:
        """Kish's effective sample size (Σw)² / Σw²; equals n when every weight is 1."""
        return self.sw * self.sw / self.sw2 if self.sw2 > 0 else 0.0

    @property
    def mean(self) -> float:
        return self.swy / self.sw if self.sw > 0 else math.nan

    @property
    def variance(self) -> float:
        """s² = [Σw(y - ȳ)² / Σw] · n_eff / (n_eff - 1) (indicators.md §2)."""
        n_eff = self.n_eff
        if n_eff <= 1 or self.sw <= 0:
            return math.nan
        spread = max(self.swy2 - self.swy * self.swy / self.sw, 0.0) / self.sw
        return spread * n_eff / (n_eff - 1)


@dataclass(frozen=True)
class Estimate:
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    n_eff: float | None

    @property
    def suppressed(self) -> bool:
        return self.n < SUPPRESS_BELOW


def _finite(x: float) -> float | None:
    return None if math.isnan(x) or math.isinf(x) else x


def share(numerator: float, denominator: Sums) -> Estimate:
    """p = Σw·y / Σw over the denominator's units, with Wilson's interval on n_eff.

    ``numerator`` is Σw·y for a 0/1 y; ``denominator`` gives n, Σw and Σw² of the units the share is taken over.
    """
    if denominator.sw <= 0:
        return Estimate(None, None, None, denominator.n, None)
    p = min(max(numerator / denominator.sw, 0.0), 1.0)
    ci = wilson(p, denominator.n_eff)
    return Estimate(p, ci.low, ci.high, denominator.n, denominator.n_eff)


def share_interval(numerator: float, denominator: Sums) -> tuple[float, Interval] | None:
    if denominator.sw <= 0:
        return None
    p = min(max(numerator / denominator.sw, 0.0), 1.0)
    return p, wilson(p, denominator.n_eff)


def share_difference(first: tuple[float, Sums], second: tuple[float, Sums]) -> Estimate:
    """p1 - p2 with Newcombe's hybrid score interval (method 10) from the two Wilson intervals."""
    a, b = share_interval(*first), share_interval(*second)
    n = first[1].n + second[1].n
    if a is None or b is None:
        return Estimate(None, None, None, n, None)
    (p1, ci1), (p2, ci2) = a, b
    d = p1 - p2
    low = d - math.sqrt((p1 - ci1.low) ** 2 + (ci2.high - p2) ** 2)
    high = d + math.sqrt((ci1.high - p1) ** 2 + (p2 - ci2.low) ** 2)
    return Estimate(d, low, high, n, first[1].n_eff + second[1].n_eff)


def mean(sums: Sums, scale: float = 1.0) -> Estimate:
    """Weighted mean (times ``scale``) with a t interval: SE = s / √n_eff on n_eff - 1 degrees of freedom."""
    if sums.sw <= 0:
        return Estimate(None, None, None, sums.n, None)
    m, n_eff, variance = sums.mean, sums.n_eff, sums.variance
    if math.isnan(variance):
        return Estimate(m * scale, None, None, sums.n, n_eff)
    half = t_quantile(n_eff - 1) * math.sqrt(variance / n_eff)
    return Estimate(m * scale, (m - half) * scale, (m + half) * scale, sums.n, n_eff)


def mean_difference(first: Sums, second: Sums) -> Estimate:
    """Welch: ȳ1 - ȳ2, SE = √(s1²/n_eff1 + s2²/n_eff2), t quantile on the Welch-Satterthwaite nu."""
    n = first.n + second.n
    if first.sw <= 0 or second.sw <= 0:
        return Estimate(None, None, None, n, None)
    d = first.mean - second.mean
    n_eff = first.n_eff + second.n_eff
    v1, v2 = first.variance / first.n_eff, second.variance / second.n_eff
    if math.isnan(v1) or math.isnan(v2):
        return Estimate(d, None, None, n, n_eff)
    se = math.sqrt(v1 + v2)
    if se == 0:
        return Estimate(d, d, d, n, n_eff)
    df = (v1 + v2) ** 2 / (v1 * v1 / (first.n_eff - 1) + v2 * v2 / (second.n_eff - 1))
    half = t_quantile(df) * se
    return Estimate(d, d - half, d + half, n, n_eff)


def ratio(numerator: float, denominator: float, n: int) -> Estimate:
    """A ratio of weighted totals, without an interval (value shares, unit prices)."""
    value = numerator / denominator if denominator else math.nan
    return Estimate(_finite(value), None, None, n, None)


def point(value: float | None, n: int) -> Estimate:
    return Estimate(None if value is None else _finite(value), None, None, n, None)
