"""pyxform's refusal of a workbook, split into one problem a line with the sheet and row it names.

pyxform writes ``[row : 3] On the 'survey' sheet, the 'name' value ...``, one problem a line; a message without
a row (``Unknown question type 'texte'.``) is kept whole, its sheet and row left empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ROW = re.compile(r"^\[row\s*:\s*(\d+)\]\s*")
SHEET = re.compile(r"^On the '([^']+)' sheet,\s*")
NAMED_SHEET = re.compile(r"\bthe '([^']+)' sheet\b")


@dataclass(frozen=True)
class Problem:
    sheet: str | None
    row: int | None
    message: str

    def __str__(self) -> str:
        where = ", ".join(p for p in (self.sheet and f"sheet '{self.sheet}'", self.row and f"row {self.row}") if p)
        return f"{where}: {self.message}" if where else self.message


def form_problems(message: str, filename: str = "") -> list[Problem]:
    """The problems in a publish error (``services.forms.publish`` prefixes it with ``<file name>: ``)."""
    if filename:
        message = message.removeprefix(f"{filename}: ")
    found = []
    for raw in message.splitlines():
        line = raw.strip()
        if not line:
            continue
        row = None
        if match := ROW.match(line):
            row, line = int(match.group(1)), line[match.end() :]
        sheet = None
        if match := SHEET.match(line):
            sheet, line = match.group(1), line[match.end() :]
            line = line[:1].upper() + line[1:]
        elif match := NAMED_SHEET.search(line):
            sheet = match.group(1)
        found.append(Problem(sheet, row, line))
    return found
