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
from itertools import islice
from typing import IO, Any

import xlsxwriter

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_MAX_ROWS = 1_048_576  # a worksheet's limit, header included: longer tables go on to a next sheet
CSV_BATCH = 2000


class Kind(enum.Enum):
    TEXT = "text"  # free text: neutralised when it looks like a formula
    NUMBER = "number"
    BOOL = "bool"  # true / false
    DATETIME = "datetime"  # ISO 8601, UTC
    DATE = "date"


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind = Kind.TEXT


Row = Sequence[Any]


def neutralise(value: str) -> str:
    """Text a spreadsheet would treat as a formula gets a leading apostrophe."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _csv_converter(columns: Sequence[Column]) -> Callable[[Row], Row]:
    """A function making one row CSV-ready: only the columns that need it are touched (numbers pass as they are)."""
    text = [i for i, c in enumerate(columns) if c.kind is Kind.TEXT]
    flags = [i for i, c in enumerate(columns) if c.kind is Kind.BOOL]
    stamps = [i for i, c in enumerate(columns) if c.kind in (Kind.DATETIME, Kind.DATE)]
    starts = "".join(FORMULA_STARTS)

    def convert(row: Row) -> Row:
        out = list(row)
        for i in text:
            value = out[i]
            if value and value[0] in starts:
                out[i] = "'" + value
        for i in flags:
            value = out[i]
            if value is not None:
                out[i] = "true" if value else "false"
        for i in stamps:
            value = out[i]
            if value is not None:
                out[i] = value.isoformat()
        return out

    return convert


def csv_chunks(columns: Sequence[Column], rows: Iterable[Row], batch: int = CSV_BATCH) -> Iterator[bytes]:
    """UTF-8 CSV (header row first, RFC 4180 line ends) in chunks of ``batch`` rows: memory stays flat."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.name for c in columns])
    convert = _csv_converter(columns)
    iterator = iter(rows)
    while True:
        writer.writerows(map(convert, islice(iterator, batch)))
        chunk = buffer.getvalue()
        if not chunk:
            return
        yield chunk.encode("utf-8")
        buffer.seek(0)
        buffer.truncate()


def write_xlsx(target: IO[bytes], sheet: str, columns: Sequence[Column], rows: Iterable[Row]) -> int:
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
    for row in rows:
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
