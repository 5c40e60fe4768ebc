"""The administration pages in a real browser, as an admin; managers and forged posts are refused.

Every test that changes data works on users and forms of its own (names with a random suffix), so the shared
site's users, forms and indicators stay as other tests read them.
"""

from __future__ import annotations

import base64
import io
import json
import re
import uuid
import zlib
from pathlib import Path

import openpyxl
import requests
from playwright.sync_api import Browser, FilePayload, Page, expect
from sqlalchemy import func, select

from app.db import transaction
from app.models import IndicatorSet, Role, UpgradingPractice, User, ValueChain
from tests.browser.conftest import sign_in
from tests.browser.site import Site
from tests.helpers import Factory

ADMIN_PAGES = ["/dashboard/admin/", "/dashboard/admin/users", "/dashboard/admin/forms"]
ADMIN_PAGES += ["/dashboard/admin/catalogue", "/dashboard/admin/jobs"]
SECRET = re.compile(r"shown once: (\S+)$")


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def test_every_admin_page_opens_from_the_index(admin_page: Page, site: Site) -> None:
    admin_page.get_by_role("link", name="Admin").click()
    expect(admin_page.get_by_role("heading", name="Administration")).to_be_visible()
    for heading in ("Users and roles", "Forms", "Catalogue", "Job status", "Audit log"):
        admin_page.goto(site.url("/dashboard/admin/"))
        admin_page.get_by_role("link", name=heading, exact=True).click()
        expect(admin_page.get_by_role("heading", level=1)).to_have_text(heading)
    with site.app.app_context(), transaction() as session:
        chains = session.scalars(select(ValueChain.code)).all()
        practices = session.scalar(select(func.count()).select_from(UpgradingPractice))
        pairs = session.scalar(select(func.count()).select_from(IndicatorSet))
        usernames = session.scalars(select(User.username)).all()
    admin_page.goto(site.url("/dashboard/admin/catalogue"))
    expect(admin_page.locator("section.chain")).to_have_count(len(chains))
    expect(admin_page.locator("table.practices tbody tr")).to_have_count(practices or 0)
    admin_page.goto(site.url("/dashboard/admin/jobs"))
    expect(admin_page.locator("table.freshness tbody tr[data-chain]")).to_have_count(pairs or 0)
    admin_page.goto(site.url("/dashboard/admin/users"))
    for name in usernames:
        expect(admin_page.locator(f'tr[data-user="{name}"]')).to_have_count(1)


def test_a_user_created_through_the_form_signs_in(admin_page: Page, site: Site, browser: Browser) -> None:
    name = unique("adm_mgr")
    admin_page.goto(site.url("/dashboard/admin/users"))
    form = admin_page.locator("form.create-user")
    form.get_by_label("User name").fill(name)
    form.get_by_label("Role").select_option("manager")
    form.get_by_role("button", name="Create user").click()
    secret = admin_page.locator(".flash-secret")
    expect(secret).to_contain_text(name)
    found = SECRET.search(secret.inner_text().strip())
    assert found is not None
    fresh = browser.new_context()
    try:
        page = fresh.new_page()
        page.goto(site.url("/login"))
        page.fill("#username", name)
        page.fill("#password", found.group(1))
        page.click("button[type=submit]")
        expect(page).to_have_url(site.url("/dashboard/"))
        expect(page.locator(".who")).to_contain_text(f"{name} (manager)")
    finally:
        fresh.close()


def test_role_change_and_deactivation_through_the_page(admin_page: Page, site: Site) -> None:
    name = unique("adm_user")
    Factory(site.app).user(name, Role.MANAGER)
    admin_page.on("dialog", lambda dialog: dialog.accept())
    admin_page.goto(site.url("/dashboard/admin/users"))
    row = admin_page.locator(f'tr[data-user="{name}"]')
    row.get_by_label(f"New role of {name}").select_option("enumerator")
    row.get_by_role("button", name="Change role").click()
    expect(admin_page.locator(".flash")).to_contain_text(f"'{name}' is now a enumerator")
    row.get_by_role("button", name="Deactivate").click()
    expect(row).to_contain_text("deactivated")
    with site.app.app_context(), transaction() as session:
        user = session.scalar(select(User).where(User.username == name))
        assert user is not None and user.role is Role.ENUMERATOR and not user.active and user.token is None


def _cli_collect_config(site: Site, name: str, qr: Path) -> dict[str, object]:
    args = ["users", "collect-config", name, "--server", site.base_url, "--qr", str(qr)]
    result = site.app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    text = result.output
    settings: dict[str, object] = json.loads(text[text.index("{") : text.rindex("}") + 1])
    return settings


def _path_data(svg: str) -> str:
    found = re.search(r'<path[^>]*class="qrline"[^>]*\sd="([^"]+)"', svg)
    assert found is not None, svg[:300]
    return found.group(1)


def test_an_enumerators_qr_code_is_the_one_the_cli_prints(admin_page: Page, site: Site, tmp_path: Path) -> None:
    name = unique("adm_enum")
    made = Factory(site.app).user(name, Role.ENUMERATOR)
    admin_page.goto(site.url("/dashboard/admin/users"))
    admin_page.locator(f'tr[data-user="{name}"]').get_by_role("link", name="ODK Collect QR").click()
    expect(admin_page.get_by_text("This QR code grants submission rights")).to_be_visible()
    figure = admin_page.locator("figure.qr-figure")
    expect(figure.locator("svg")).to_be_visible()
    expected = _cli_collect_config(site, name, tmp_path / "qr.svg")
    payload = figure.get_attribute("data-payload")
    assert payload is not None
    assert json.loads(zlib.decompress(base64.b64decode(payload))) == expected
    assert _path_data(figure.inner_html()) == _path_data((tmp_path / "qr.svg").read_text())
    expect(admin_page.locator("code.server-url")).to_have_text(f"{site.base_url}/key/{made.token}")

    admin_page.on("dialog", lambda dialog: dialog.accept())
    admin_page.get_by_role("button", name=re.compile("New token")).click()
    expect(admin_page.locator(".flash")).to_contain_text("New token")
    renewed = _cli_collect_config(site, name, tmp_path / "renewed.svg")
    assert renewed != expected
    assert _path_data(figure.inner_html()) == _path_data((tmp_path / "renewed.svg").read_text())
    assert requests.get(site.url(f"{made.prefix}/formList"), timeout=30).status_code in {401, 403}


def xlsform(form_id: str, *rows: tuple[str, str, str]) -> bytes:
    book = openpyxl.Workbook()
    survey = book.active
    assert survey is not None
    survey.title = "survey"
    survey.append(["type", "name", "label"])
    for row in rows:
        survey.append(list(row))
    settings = book.create_sheet("settings")
    settings.append(["form_id", "version", "form_title"])
    settings.append([form_id, "1", "Admin browser test"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(page: Page, data: bytes) -> None:
    upload: FilePayload = {"name": "admin_test.xlsx", "mimeType": "", "buffer": data}
    page.set_input_files('input[name="form"]', files=upload)
    page.get_by_role("button", name="Publish").click()


def test_publishing_shows_pyxform_problems_then_lists_the_form(admin_page: Page, site: Site) -> None:
    form_id = unique("admin_browser_form")
    admin_page.goto(site.url("/dashboard/admin/forms"))
    _upload(admin_page, xlsform(form_id, ("text", "firm", "Firm"), ("integer", "firm", "Again")))
    problem = admin_page.locator("table.problem-list tbody tr")
    expect(problem).to_have_count(1)
    expect(problem.locator("td").nth(0)).to_have_text("survey")
    expect(problem.locator("td").nth(1)).to_have_text("3")
    expect(problem.locator("td").nth(2)).to_contain_text("'name' value 'firm' is invalid")
    expect(admin_page.locator(f'tr[data-form="{form_id}"]')).to_have_count(0)

    _upload(admin_page, xlsform(form_id, ("text", "firm", "Firm"), ("integer", "workers", "Workers")))
    expect(admin_page.locator(".flash")).to_contain_text(f"Published form '{form_id}' version 1")
    row = admin_page.locator(f'tr[data-form="{form_id}"]')
    expect(row).to_contain_text("Admin browser test")
    expect(row.locator("td.state")).to_have_text("open")
    admin_page.on("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Close").click()  # out of every phone's form list again
    expect(row.locator("td.state")).to_have_text("closed")


def test_a_manager_gets_403_on_every_admin_page(manager_page: Page, site: Site) -> None:
    expect(manager_page.get_by_role("link", name="Admin")).to_have_count(0)
    for path in ADMIN_PAGES:
        response = manager_page.goto(site.url(path))
        assert response is not None and response.status == 403, path
        expect(manager_page.get_by_text("Only administrators may open this page.")).to_be_visible()


def test_an_enumerator_is_refused(page: Page, site: Site) -> None:
    page.goto(site.url("/dashboard/admin/users"))
    expect(page).to_have_url(site.url("/login?next=/dashboard/admin/users"))
    sign_in(page, site, Role.ENUMERATOR)
    expect(page.get_by_role("alert")).to_contain_text("ODK Collect")
    response = page.goto(site.url("/dashboard/admin/users"))
    assert response is not None and "/login" in response.url


def test_a_forged_post_without_the_csrf_token_is_refused(admin_page: Page, site: Site) -> None:
    name = unique("adm_forged")
    cookies = {c["name"]: c["value"] for c in admin_page.context.cookies()}
    data = {"username": name, "role": "admin", "password_mode": "generated"}
    answer = requests.post(site.url("/dashboard/admin/users"), data=data, cookies=cookies, timeout=30)
    assert answer.status_code == 400
    with site.app.app_context(), transaction() as session:
        assert session.scalar(select(User).where(User.username == name)) is None
