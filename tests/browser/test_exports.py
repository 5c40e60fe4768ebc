"""The exports page in a real browser: every download read back and checked against the database or the API."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from app.db import transaction
from app.models import Firm, FirmContact, FirmObservation, Role, SurveyRound, UpgradingDecision, ValueChain
from tests.browser.conftest import sign_in
from tests.browser.site import Site

PERSONAL = {"firm_name", "owner_name", "phone", "gps_lat", "gps_lon", "gps_accuracy"}


def download(page: Page, export: str, fmt: str, tmp_path: Path, *, personal: bool = False) -> tuple[Path, str]:
    """Click the export's link on the page; the saved file and its suggested name."""
    selector = f'tr[data-export="{export}"] a.download{".personal" if personal else ":not(.personal)"}'
    with page.expect_download() as info:
        page.click(f'{selector}[data-format="{fmt}"]')
    saved = tmp_path / f"{export}-{personal}.{fmt}"
    info.value.save_as(saved)
    return saved, info.value.suggested_filename


def read(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        header, *body = book.worksheets[0].iter_rows(values_only=True)
    finally:
        book.close()
    return [dict(zip(header, row, strict=True)) for row in body]


def db_counts(site: Site) -> dict[str, int]:
    with site.app.app_context(), transaction() as session:
        return {
            "firms": session.scalar(select(func.count(Firm.id)).where(Firm.is_active.is_(True))) or 0,
            "observations": session.scalar(select(func.count(FirmObservation.id))) or 0,
            "decisions": session.scalar(select(func.count(UpgradingDecision.id))) or 0,
        }


def test_manager_downloads_the_analysis_tables_without_personal_data(
    manager_page: Page, site: Site, tmp_path: Path
) -> None:
    manager_page.goto(site.url("/dashboard/exports/"))
    expect(manager_page.get_by_role("heading", name="Exports")).to_be_visible()
    expect(manager_page.locator("a.personal")).to_have_count(0)
    counts = db_counts(site)
    today = dt.datetime.now(dt.UTC).date().isoformat()
    for table, expected in counts.items():
        shown = manager_page.locator(f'tr[data-export="{table}"] td.rows').inner_text()
        assert int(shown.replace(",", "")) == expected
        for fmt in ("csv", "xlsx"):
            path, name = download(manager_page, table, fmt, tmp_path)
            assert name == f"chainlift-{table}-{today}.{fmt}"
            rows = read(path)
            assert len(rows) == expected > 0
            assert not PERSONAL & set(rows[0])
    with site.app.app_context(), transaction() as session:
        incomes = {
            (code, rnd): float(income or 0)
            for code, rnd, income in session.execute(
                select(Firm.panel_code, SurveyRound.code, FirmObservation.net_income)
                .join(Firm, Firm.id == FirmObservation.firm_id)
                .join(SurveyRound, SurveyRound.id == FirmObservation.round_id)
                .where(FirmObservation.net_income.is_not(None))
            )
        }
    sheet = read(tmp_path / "observations-False.xlsx")
    assert {(r["panel_code"], r["round"]): r["net_income"] for r in sheet if r["net_income"] is not None} == incomes


def test_indicators_with_filters_match_the_api(manager_page: Page, site: Site, tmp_path: Path) -> None:
    with site.app.app_context(), transaction() as session:
        chain = session.scalars(select(ValueChain.code).join(Firm).order_by(ValueChain.code)).first()
    assert chain is not None
    manager_page.goto(site.url("/dashboard/exports/"))
    manager_page.select_option("#chain", chain)
    manager_page.select_option("#round", "R1")
    manager_page.select_option("#disaggregation", "owner_gender")
    manager_page.get_by_role("button", name="Apply").click()
    expect(manager_page).to_have_url(re.compile(r"chain=.*round=R1"))
    items = site.api(
        "/api/v1/indicators", chain=chain, round="R1", disaggregation="owner_gender", limit="10000"
    ).json()["items"]
    assert items
    shown = manager_page.locator('tr[data-export="indicators"] td.rows').inner_text()
    assert int(shown.replace(",", "")) == len(items)
    for fmt in ("csv", "xlsx"):
        path, _ = download(manager_page, "indicators", fmt, tmp_path)
        rows = read(path)
        assert len(rows) == len(items)
        for row, item in zip(rows, items, strict=True):
            assert (row["code"], row["chain"], row["round"], row["group"]) == (
                item["code"],
                chain,
                "R1",
                item["group"],
            )
            for key in ("value", "ci_low", "ci_high"):
                got = row[key] if fmt == "xlsx" else (float(row[key]) if row[key] else None)
                assert got == (None if item[key] is None else pytest.approx(item[key], rel=1e-12))


def test_admin_downloads_the_tables_with_personal_data(admin_page: Page, site: Site, tmp_path: Path) -> None:
    admin_page.goto(site.url("/dashboard/exports/"))
    with site.app.app_context(), transaction() as session:
        contacts = {
            code: (contact.firm_name or "", contact.owner_name or "")
            for code, contact in session.execute(select(Firm.panel_code, FirmContact).join(FirmContact))
        }
    path, name = download(admin_page, "firms", "csv", tmp_path, personal=True)
    assert "with-personal-data" in name
    firms = read(path)
    assert set(firms[0]) >= PERSONAL and len(firms) == db_counts(site)["firms"]
    assert all((r["firm_name"], r["owner_name"]) == contacts[r["panel_code"]] for r in firms)
    path, _ = download(admin_page, "observations", "xlsx", tmp_path, personal=True)
    observations = read(path)
    assert len(observations) == db_counts(site)["observations"]
    assert all((r["owner_name"] or "") == contacts[r["panel_code"]][1] for r in observations)


def test_a_manager_asking_for_personal_data_gets_a_403_page(manager_page: Page, site: Site) -> None:
    response = manager_page.goto(site.url("/dashboard/exports/firms.csv?personal=1"))
    assert response is not None and response.status == 403
    expect(manager_page.locator("body")).to_contain_text("administrators")


def test_an_enumerator_is_refused(page: Page, site: Site) -> None:
    sign_in(page, site, Role.ENUMERATOR)
    expect(page.get_by_role("alert")).to_contain_text("ODK Collect")
    response = page.goto(site.url("/dashboard/exports/decisions.csv"))
    assert response is not None and response.url.startswith(site.url("/login"))
