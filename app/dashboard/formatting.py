"""How numbers read on the pages: shares as percentages, money with thousands separators, intervals in brackets.

The exact value stays in the cell's ``data-value`` attribute, so tests and scripts can read it back.
"""

from __future__ import annotations

import datetime as dt

from flask import Flask

from app.services.indicators.board import Cell

PERCENT_UNITS = frozenset({"share"})
MONEY_UNITS = frozenset({"currency"})


def number(value: float | None, unit: str) -> str:
    if value is None:
        return "\u2013"  # en dash
    if unit in PERCENT_UNITS:
        return f"{value * 100:.1f}%"
    if unit in MONEY_UNITS:
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def interval(cell: Cell | None) -> str:
    if cell is None or cell.ci_low is None or cell.ci_high is None:
        return ""
    return f"[{number(cell.ci_low, cell.unit)} \u2013 {number(cell.ci_high, cell.unit)}]"


def when(moment: dt.datetime | None) -> str:
    if moment is None:
        return "never"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def init_app(app: Flask) -> None:
    app.add_template_filter(number, "number")
    app.add_template_filter(interval, "interval")
    app.add_template_filter(when, "when")
