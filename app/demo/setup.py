"""What a panel is generated from, when it does not come from the database: the catalogue file's data, and the
rounds to create when they are missing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.demo.model import ChainSpec, FunctionSpec, MarketSpec, PracticeSpec, ReasonSpec, RoundSpec

BASELINE_YEAR = 2023  # reference year of a baseline created here: interviews early 2024, endline early 2026
DEFLATION_PER_YEAR = 0.05


def specs_from_catalogue(data: Mapping[str, Any]) -> tuple[list[ChainSpec], list[ReasonSpec]]:
    """Chains (active practices only) and reasons from ``app.ingest.catalogue.read_catalogue``'s result."""
    chains = [
        ChainSpec(
            code=c["code"],
            sector=str(c["sector"]),
            country_iso3=c["country_iso3"],
            currency=c["currency"],
            product=c["product"],
            functions=tuple(FunctionSpec(f["code"], f["rank"]) for f in c["functions"]),
            end_markets=tuple(MarketSpec(m["code"], m["tier"], m["export"]) for m in c["end_markets"]),
            practices=tuple(
                PracticeSpec(
                    p["code"], str(p["type"]), p["name"], p["name_fr"], p["target_function"], p["target_end_market"]
                )
                for p in c["practices"]
                if p.get("active", True)
            ),
        )
        for c in data["chains"]
    ]
    return chains, [ReasonSpec(r["code"], str(r["category"])) for r in data["reasons"]]


@dataclass(frozen=True)
class PlannedRound:
    code: str
    number: int
    kind: str  # baseline | midline | endline
    name: str
    reference_start: dt.date
    reference_end: dt.date
    deflator: float

    def spec(self) -> RoundSpec:
        return RoundSpec(self.code, self.number, self.deflator, self.reference_start, self.reference_end)


def planned_rounds(count: int, baseline_year: int = BASELINE_YEAR) -> list[PlannedRound]:
    """R0 (baseline), R1, … with calendar-year reference periods: 24 months from baseline to endline as in
    domain.md §5.2 (so 12 months apart with three rounds; two rounds are 24 months apart), and deflators to
    baseline prices falling 0.05 a year (1, 0.95, 0.90), so that deflation matters."""
    if count < 2:
        raise ValueError("A panel has at least two rounds.")
    step = 2 if count == 2 else 1
    planned = []
    for number in range(count):
        year = baseline_year + number * step
        kind = "baseline" if number == 0 else "endline" if number == count - 1 else "midline"
        planned.append(
            PlannedRound(
                code=f"R{number}",
                number=number,
                kind=kind,
                name=f"{kind.capitalize()} {year + 1}",
                reference_start=dt.date(year, 1, 1),
                reference_end=dt.date(year, 12, 31),
                deflator=round(1 - DEFLATION_PER_YEAR * number * step, 6),
            )
        )
    return planned
