"""Rows of results as they are stored and served: one estimate per code, measure, subject, group and weighting."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from app.indicators.sums import Estimate


@dataclass
class Results:
    rows: list[dict[str, Any]] = field(default_factory=list)

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
            {
                "code": code,
                "measure": measure,
                "subject": subject,
                "disaggregation": group[0],
                "group_value": group[1],
                "weighting": weighting,
                "unit": unit,
                "value": estimate.value,
                "ci_low": estimate.ci_low,
                "ci_high": estimate.ci_high,
                "n": estimate.n,
                "n_eff": estimate.n_eff,
                "suppressed": estimate.suppressed,
            }
        )

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)
