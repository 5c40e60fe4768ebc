"""Signing in and out, and who is refused."""

from __future__ import annotations

import requests
from playwright.sync_api import Page, expect

from app.models import Role
from tests.browser.conftest import sign_in
from tests.browser.site import Site


def test_a_page_without_a_session_leads_to_the_login_page(page: Page, site: Site) -> None:
    page.goto(site.url("/dashboard/fieldwork/"))
    expect(page).to_have_url(site.url("/login?next=/dashboard/fieldwork/"))
    sign_in(page, site, Role.MANAGER)
    expect(page).to_have_url(site.url("/dashboard/fieldwork/"))


def test_a_wrong_password_is_refused_with_a_message(page: Page, site: Site) -> None:
    page.goto(site.url("/login"))
    page.fill("#username", site.users[Role.MANAGER].username)
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("wrong")
    expect(page).to_have_url(site.url("/login"))


def test_an_enumerator_cannot_use_the_dashboard(page: Page, site: Site) -> None:
    sign_in(page, site, Role.ENUMERATOR)
    expect(page.get_by_role("alert")).to_contain_text("ODK Collect")
    response = page.goto(site.url("/dashboard/"))
    assert response is not None
    assert response.url.startswith(site.url("/login"))


def test_signing_out_ends_the_session(manager_page: Page, site: Site) -> None:
    manager_page.get_by_role("button", name="Sign out").click()
    expect(manager_page).to_have_url(site.url("/login"))
    manager_page.goto(site.url("/dashboard/"))
    expect(manager_page).to_have_url(site.url("/login?next=/dashboard/"))


def test_a_post_without_the_csrf_token_is_refused(manager_page: Page, site: Site) -> None:
    cookies = {c["name"]: c["value"] for c in manager_page.context.cookies()}
    answer = requests.post(site.url("/logout"), cookies=cookies, timeout=30, allow_redirects=False)
    assert answer.status_code == 400
    assert "CSRF" in answer.text


def test_pages_carry_security_headers_and_a_script_policy(manager_page: Page, site: Site) -> None:
    violations: list[str] = []
    manager_page.on("console", lambda msg: violations.append(msg.text))
    answer = manager_page.goto(site.url("/dashboard/"))
    assert answer is not None
    headers = answer.headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"
    session = next(c for c in manager_page.context.cookies() if c["name"] == "session")
    assert session["httpOnly"]
    assert session["sameSite"] == "Lax"
    assert not [v for v in violations if "Content Security Policy" in v]
