"""Rows of results as they are stored and served: one estimate per code, measure, subject, group and weighting."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from app.indicators.sums import Estimate

# The fields of a row, in the order of its tuple (the stored columns after the chain and the round).
FIELDS = (
    "code",
    "measure",
    "subject",
    "disaggregation",
    "group_value",
    "weighting",
    "unit",
    "value",
    "ci_low",
    "ci_high",
    "n",
    "n_eff",
    "suppressed",
)


@dataclass
class Results:
    rows: list[tuple[Any, ...]] = field(default_factory=list)  # tuples of FIELDS: a pair has ~10,000

    def add(  # noqa: PLR0917 - one row has these coordinates
        self,
        code: str,
        measure: str,
        subject: str,
        group: tuple[str, str],
        weighting: str,
        unit: str,
        estimate: Estimate,
    ) -> None:
        self.rows.append(
            (
                code,
                measure,
                subject,
                group[0],
                group[1],
                weighting,
                unit,
                estimate.value,
                estimate.ci_low,
                estimate.ci_high,
                estimate.n,
                estimate.n_eff,
                estimate.suppressed,
            )
        )

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (dict(zip(FIELDS, row, strict=True)) for row in self.rows)

    def __len__(self) -> int:
        return len(self.rows)
