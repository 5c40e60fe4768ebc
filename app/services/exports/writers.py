"""CSV and XLSX writers for exports: typed columns, formula-injection safe, in constant memory.

Text that a spreadsheet would run as a formula (it starts with = + - @, a tab or a carriage return) is neutralised:
in CSV it gets a leading apostrophe (OWASP's advice); in XLSX it is written as a string cell with Excel's quote
prefix, so Excel shows it as typed text and never evaluates it. Numbers stay numbers in both formats.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, islice
from operator import itemgetter
from typing import IO, Any

import xlsxwriter

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_MAX_ROWS = 1_048_576  # a worksheet's limit, header included: longer tables go on to a next sheet
BATCH = 1000


class Kind(enum.Enum):
    TEXT = "text"  # free text: neutralised when it looks like a formula
    CODE = "code"  # a value of a closed vocabulary (an enum the database checks): never a formula
    NUMBER = "number"
    BOOL = "bool"  # true / false
    DATETIME = "datetime"  # ISO 8601, UTC
    DATE = "date"


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind = Kind.TEXT


Row = Sequence[Any]
Batch = list[Sequence[Any]]  # a batch of rows, column by column: transformed a column at a time, mostly in C


def neutralise(value: str) -> str:
    """Text a spreadsheet would treat as a formula gets a leading apostrophe."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _text_column(values: Sequence[Any]) -> Sequence[Any]:
    """A text column, neutralised; the usual case (no value starts like a formula) is checked in C, by set algebra."""
    if set(map(itemgetter(0), filter(None, values))).isdisjoint(FORMULA_STARTS):
        return values
    return tuple(neutralise(v) if v else v for v in values)


def _flag_column(values: Sequence[Any]) -> Sequence[Any]:
    return tuple(map(FLAG_TEXT.get, values))  # None stays None (an empty cell); 1/0 from SQLite work as True/False


def _stamp_column(values: Sequence[Any]) -> Sequence[Any]:
    return tuple(None if v is None else v.isoformat() for v in values)


CSV_STEPS: dict[Kind, Callable[[Sequence[Any]], Sequence[Any]]] = {
    Kind.TEXT: _text_column,
    Kind.BOOL: _flag_column,
    Kind.DATETIME: _stamp_column,
    Kind.DATE: _stamp_column,
}
FLAG_TEXT = {True: "true", False: "false"}


def _csv_converter(columns: Sequence[Column]) -> Callable[[Batch], Batch]:
    """A function making a batch CSV-ready column by column (numbers and codes pass as they are)."""
    steps = [(i, CSV_STEPS[c.kind]) for i, c in enumerate(columns) if c.kind in CSV_STEPS]

    def convert(batch: Batch) -> Batch:
        out = list(batch)
        for i, step in steps:
            out[i] = step(out[i])
        return out

    return convert


def csv_chunks(columns: Sequence[Column], batches: Iterable[Batch]) -> Iterator[bytes]:
    """UTF-8 CSV (header row first, RFC 4180 line ends), one chunk per batch of rows: memory stays flat."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.name for c in columns])
    convert = _csv_converter(columns)
    for batch in batches:
        writer.writerows(zip(*convert(batch), strict=True))
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def batched(rows: Iterable[Row], size: int = BATCH) -> Iterator[Batch]:
    """Rows in batches of ``size``, column by column."""
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield list(zip(*batch, strict=True))


def write_xlsx(target: IO[bytes], sheet: str, columns: Sequence[Column], batches: Iterable[Batch]) -> int:
    """Write an XLSX workbook to ``target`` in xlsxwriter's constant-memory mode; returns the data rows written."""
    workbook = xlsxwriter.Workbook(
        target,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "remove_timezone": True,  # datetimes are UTC; Excel has no time zones
            "nan_inf_to_errors": True,
        },
    )
    bold = workbook.add_format({"bold": True})
    quoted = workbook.add_format({"quote_prefix": True})
    stamp = workbook.add_format({"num_format": 'yyyy-mm-dd"T"hh:mm:ss"Z"'})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    kinds = [c.kind for c in columns]
    count, sheets, worksheet, r = 0, 0, None, XLSX_MAX_ROWS
    for row in chain.from_iterable(zip(*batch, strict=True) for batch in batches):
        if r == XLSX_MAX_ROWS:
            sheets += 1
            worksheet = workbook.add_worksheet(sheet if sheets == 1 else f"{sheet} ({sheets})")
            worksheet.write_row(0, 0, [c.name for c in columns], bold)
            worksheet.freeze_panes(1, 0)
            r = 1
        assert worksheet is not None  # noqa: S101 - added above on the first row
        for c, (kind, value) in enumerate(zip(kinds, row, strict=True)):
            if value is None:
                continue
            if kind is Kind.NUMBER:
                worksheet.write_number(r, c, value)
            elif kind is Kind.TEXT:
                text = str(value)
                worksheet.write_string(r, c, text, quoted if text.startswith(FORMULA_STARTS) else None)
            elif kind is Kind.CODE:
                worksheet.write_string(r, c, str(value))
            elif kind is Kind.BOOL:
                worksheet.write_boolean(r, c, bool(value))
            elif kind is Kind.DATETIME:
                worksheet.write_datetime(r, c, value, stamp)
            else:
                worksheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), day)
        r += 1
        count += 1
    if worksheet is None:
        worksheet = workbook.add_worksheet(sheet)
        worksheet.write_row(0, 0, [c.name for c in columns], bold)
    workbook.close()
    return count
