"""Injection through every text field the dashboard and the exports show: HTML and script stay text, SQL stays data,
and spreadsheet formulas never run in CSV or XLSX.

Hostile values enter as enumerators would send them (an OpenRosa POST of the survey form) and as reviewers would
type them (a review comment); then every page and file that shows them is read back.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import openpyxl
import pytest
from flask import Flask
from sqlalchemy import func, select

from app.db import transaction
from app.models import Firm, FirmContact, Role, Submission
from tests.conftest import ROOT
from tests.helpers import Factory, submit
from tests.integration.test_admin_pages import Browser

SCRIPT = "<script>document.title='pwned'</script>"
IMG = '"><img src=x onerror=alert(1)>'
SQL = "'; DROP TABLE firms; --"
FORMULA = '=HYPERLINK("http://evil.example/","x")'
FORMULAS = ("=1+1", "+1+2", "-3+4", "@SUM(1)")
HTML_PAYLOADS = (SCRIPT, IMG)


def xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def baseline_instance(app: Flask, tmp_path: Path) -> bytes:
    runner = app.test_cli_runner()
    for args in (
        ["catalogue", "load", str(ROOT / "forms" / "catalogue.yaml")],
        ["rounds", "create", "R0", "--number", "0", "--kind", "baseline", "--name", "Baseline"],
        ["forms", "publish", str(ROOT / "forms" / "mse_survey.xlsx")],
        ["demo", "generate", "--chains", "1", "--firms", "10", "--rounds", "2", "--seed", "3", "--out", str(tmp_path)],
    ):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    return min((tmp_path / "R0").glob("*.xml")).read_bytes()


def with_values(xml: bytes, number: int, **fields: str) -> bytes:
    text = xml.decode()
    text = re.sub(r"<instanceID>[^<]*</instanceID>", f"<instanceID>uuid:hostile-{number}</instanceID>", text)
    for name, value in fields.items():
        text, n = re.subn(rf"<{name}>[^<]*</{name}>", f"<{name}>{xml_escape(value)}</{name}>", text)
        assert n == 1, name
    return text.encode()


@pytest.fixture
def hostile(app: Flask, factory: Factory, tmp_path: Path) -> Browser:
    """Firms registered with hostile names, owners and phones; an admin signed in."""
    xml = baseline_instance(app, tmp_path)
    enumerator = factory.user("enum_hostile")
    client = app.test_client()
    values = [
        {"firm_name": SCRIPT + " Farm", "owner_name": IMG, "firm_phone": SQL},
        {"firm_name": FORMULA, "owner_name": FORMULAS[0], "firm_phone": FORMULAS[1]},
        {"firm_name": FORMULAS[2], "owner_name": FORMULAS[3], "firm_phone": "+254 700 000 000"},
    ]
    for number, fields in enumerate(values):
        answer = submit(client, enumerator.prefix, with_values(xml, number, **fields))
        assert answer.status_code == 201, answer.get_data(as_text=True)
    factory.user("boss", Role.ADMIN)
    return Browser(app, "boss")


def test_sql_in_text_fields_is_stored_as_data(app: Flask, hostile: Browser) -> None:
    assert hostile.get("/dashboard/")  # the firms table is still there and the pages still work
    with app.app_context(), transaction() as session:
        phones = set(session.scalars(select(FirmContact.phone)))
        assert SQL in phones
        assert session.scalar(select(func.count(Firm.id))) == 3


def test_html_and_script_are_escaped_on_every_page(app: Flask, hostile: Browser) -> None:
    with app.app_context(), transaction() as session:
        pk = session.scalars(select(Submission.id).order_by(Submission.id)).first()
    page = hostile.get(f"/dashboard/fieldwork/submissions/{pk}")
    token = Browser.token(page)
    comment = f"{SCRIPT} {IMG} {FORMULA}"
    answer = hostile.client.post(
        f"/dashboard/fieldwork/submissions/{pk}/review",
        data={"csrf_token": token, "state": "hasIssues", "comment": comment},
        follow_redirects=True,
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    pages = [
        answer.get_data(as_text=True),
        hostile.get("/dashboard/fieldwork/"),
        hostile.get("/dashboard/admin/audit"),
        hostile.get("/dashboard/admin/users"),
        hostile.get("/dashboard/exports/"),
    ]
    shown = "\n".join(pages)
    for payload in HTML_PAYLOADS:
        assert payload not in shown
    assert "&lt;script&gt;document.title=" in shown  # the comment is there, as text
    assert "<img src=x" not in shown


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_exports_never_hand_a_formula_to_a_spreadsheet(hostile: Browser) -> None:
    answer = hostile.client.get("/dashboard/exports/firms.csv?personal=1")
    assert answer.status_code == 200
    rows = csv_rows(answer.get_data())
    cells = [value for row in rows for value in row.values() if value]
    for payload in (FORMULA, *FORMULAS):
        assert "'" + payload in cells, payload
        assert payload not in cells
    assert SCRIPT + " Farm" in cells  # text is text: kept as typed

    answer = hostile.client.get("/dashboard/exports/firms.xlsx?personal=1")
    assert answer.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(answer.get_data())).active
    assert sheet is not None
    texts = {}
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                texts[cell.value] = cell
    for payload in (FORMULA, *FORMULAS):
        cell = texts[payload]
        assert cell.data_type == "s", payload  # a string, never a formula ("f")
        assert cell.quotePrefix, payload
