"""Dashboard sessions: a forged or tampered cookie, a changed password, a deactivated user and an expired CSRF
token all lead back to the login page (or a 400), never to data."""

from __future__ import annotations

import time

from flask import Flask
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from app.db import transaction
from app.models import Role
from app.services import users
from tests.helpers import Factory
from tests.integration.test_admin_pages import Browser


def signed_in(app: Flask, factory: Factory, name: str = "mgr_s") -> Browser:
    factory.user(name, Role.MANAGER)
    browser = Browser(app, name)
    assert browser.client.get("/dashboard/").status_code == 200
    return browser


def goes_to_login(browser: Browser) -> bool:
    answer = browser.client.get("/dashboard/")
    return answer.status_code == 302 and answer.headers["Location"].startswith("/login")


def test_a_tampered_session_cookie_is_ignored(app: Flask, factory: Factory) -> None:
    browser = signed_in(app, factory)
    cookie = browser.client.get_cookie("session")
    assert cookie is not None
    value = cookie.value
    browser.client.set_cookie("session", value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB"))
    assert goes_to_login(browser)


def test_a_session_forged_with_another_key_is_ignored(app: Flask, factory: Factory) -> None:
    victim = signed_in(app, factory)
    cookie = victim.client.get_cookie("session")
    assert cookie is not None
    forger = URLSafeTimedSerializer("not-the-secret", salt="cookie-session", signer_kwargs={"key_derivation": "hmac"})
    fake = forger.dumps({"_user_id": "1:whatever", "_fresh": True})
    victim.client.set_cookie("session", fake)
    assert goes_to_login(victim)


def test_a_password_change_ends_the_users_sessions(app: Flask, factory: Factory) -> None:
    browser = signed_in(app, factory)
    with app.app_context(), transaction(write=True) as session:
        users.set_password(users.get_user(session, "mgr_s"), "a-brand-new-password")
    assert goes_to_login(browser)


def test_deactivation_ends_the_users_sessions(app: Flask, factory: Factory) -> None:
    browser = signed_in(app, factory)
    with app.app_context(), transaction(write=True) as session:
        users.deactivate(session, "mgr_s")
    assert goes_to_login(browser)


class SignedLongAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 24 * 3600


def test_an_expired_csrf_token_is_refused(app: Flask, factory: Factory) -> None:
    """A token signed a day ago (Flask-WTF's own format, its raw value from this session) is past the limit."""
    factory.user("boss_s", Role.ADMIN)
    browser = Browser(app, "boss_s")
    fresh = Browser.token(browser.get("/dashboard/admin/"))
    with browser.client.session_transaction() as session:
        raw = session["csrf_token"]
    assert app.secret_key is not None
    old = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token", signer=SignedLongAgo).dumps(raw)
    assert old != fresh
    answer = browser.client.post("/dashboard/admin/jobs/recompute", data={"csrf_token": old, "chain": "X"})
    assert answer.status_code == 400
    assert "expired" in answer.get_data(as_text=True).lower()
    fresh_answer = browser.client.post("/dashboard/admin/jobs/recompute", data={"csrf_token": fresh, "chain": "X"})
    assert fresh_answer.status_code == 302  # the same request with a current token passes the check
