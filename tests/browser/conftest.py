"""Browser tests: Debian's headless Chromium (/usr/bin/chromium) driven by Playwright, against a live gunicorn.

Playwright is launched with ``executable_path``; it never downloads a browser. ``make test`` and ``.ci/run``
install the ``chromium`` package when it is missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from app.models import Role
from tests.browser.site import Site, build_site
from tests.conftest import TestDatabase

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def site(test_database: TestDatabase, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with build_site(test_database, tmp_path_factory.mktemp("site")) as live:
        yield live


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed: `make test` installs it (apt-get install chromium).")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
    yield launched
    launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(20_000)
    tab = context.new_page()
    yield tab
    context.close()


def sign_in(page: Page, site: Site, role: Role) -> None:
    """Fill the login form: the one on screen (keeping its ``next``), else /login."""
    user = site.users[role]
    if "/login" not in page.url:
        page.goto(site.url("/login"))
    page.fill("#username", user.username)
    page.fill("#password", user.password)
    page.click("button[type=submit]")


@pytest.fixture
def manager_page(page: Page, site: Site) -> Page:
    sign_in(page, site, Role.MANAGER)
    page.wait_for_url("**/dashboard/")
    return page


@pytest.fixture
def admin_page(page: Page, site: Site) -> Page:
    sign_in(page, site, Role.ADMIN)
    page.wait_for_url("**/dashboard/")
    return page


@pytest.fixture
def browser_phone(browser: Browser, site: Site) -> Iterator[Page]:
    """A manager signed in on a phone-sized screen."""
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    context.set_default_timeout(20_000)
    tab = context.new_page()
    sign_in(tab, site, Role.MANAGER)
    tab.wait_for_url("**/dashboard/")
    yield tab
    context.close()
