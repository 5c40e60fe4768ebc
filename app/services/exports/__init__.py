"""Exports: the indicators (long format, with CIs) and the analysis tables, as CSV or XLSX in constant memory.

- ``indicators``: stored results, filtered by chain, round, indicator code and disaggregation;
- ``firms``, ``observations``, ``decisions``: the analysis tables, filtered by chain (and round), without personal
  data unless ``personal`` is asked for (the boundary lets only admins ask).

Rows are streamed from the database a batch at a time; CSV is written chunk by chunk, XLSX by xlsxwriter in
constant-memory mode into an anonymous temporary file that the caller streams and closes (which deletes it).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy.orm import Session

from app.errors import InvalidError
from app.indicators.catalogue import DISAGGREGATIONS
from app.services.exports import indicators
from app.services.exports.tables import TABLES, scope
from app.services.exports.writers import Batch, Column, Kind, csv_chunks, neutralise, write_xlsx

__all__ = [
    "EXPORTS",
    "FORMATS",
    "Batch",
    "Column",
    "Filters",
    "Kind",
    "batches",
    "columns",
    "count",
    "csv_chunks",
    "filename",
    "filters_of",
    "has_personal_data",
    "neutralise",
    "validate",
    "xlsx_file",
]

EXPORTS = ("indicators", "firms", "observations", "decisions")
FORMATS = ("csv", "xlsx")
FILTERS = {"indicators": ("chain", "round", "code", "disaggregation"), **{n: t.filters for n, t in TABLES.items()}}


@dataclass(frozen=True)
class Filters:
    chain: str | None = None
    round: str | None = None
    code: str | None = None  # indicator codes, comma-separated
    disaggregation: str | None = None

    def indicator_args(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v}


def filters_of(name: str) -> tuple[str, ...]:
    """The filters that apply to the export ``name``."""
    return FILTERS[name]


def has_personal_data(name: str) -> bool:
    return name in TABLES and TABLES[name].has_personal_data


def columns(name: str, personal: bool = False) -> tuple[Column, ...]:
    """The export's columns, in their stable order (personal-data columns, when asked for, come last)."""
    return indicators.COLUMNS if name == "indicators" else TABLES[name].columns(personal)


def validate(session: Session, name: str, filters: Filters) -> None:
    """Unknown chain, round or indicator code: NotFoundError; unknown disaggregation: InvalidError."""
    if filters.disaggregation and filters.disaggregation not in DISAGGREGATIONS:
        raise InvalidError(f"Unknown disaggregation '{filters.disaggregation}'; one of: {', '.join(DISAGGREGATIONS)}.")
    if name == "indicators":
        indicators.count(session, filters.indicator_args())
    else:
        scope(session, filters.chain, filters.round)


def count(session: Session, name: str, filters: Filters) -> int:
    if name == "indicators":
        return indicators.count(session, filters.indicator_args())
    table = TABLES[name]
    return table.count(session, _scope(session, name, filters))


def batches(session: Session, name: str, filters: Filters, personal: bool = False) -> Iterator[Batch]:
    """The export's rows in a stable order, in batches, fetched from the database a batch at a time."""
    if name == "indicators":
        return indicators.batches(session, filters.indicator_args())
    return TABLES[name].batches(session, personal, _scope(session, name, filters))


def _scope(session: Session, name: str, filters: Filters) -> Any:
    return scope(session, filters.chain, filters.round if "round" in FILTERS[name] else None)


def filename(name: str, fmt: str, personal: bool, day: dt.date) -> str:
    """``chainlift-decisions-2026-12-01.csv``; ``…-firms-with-personal-data-…`` when it holds personal data."""
    marker = "-with-personal-data" if personal and has_personal_data(name) else ""
    return f"chainlift-{name}{marker}-{day.isoformat()}.{fmt}"


def xlsx_file(name: str, columns: Sequence[Column], data: Iterable[Batch]) -> IO[bytes]:
    """The workbook in an anonymous temporary file (gone once closed), rewound for streaming."""
    target = tempfile.TemporaryFile(prefix="chainlift-export-", suffix=".xlsx")  # noqa: SIM115 - the caller closes it
    try:
        write_xlsx(target, name, columns, data)
        target.seek(0)
    except BaseException:
        target.close()
        raise
    return target
