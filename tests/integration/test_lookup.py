"""``db.lookup``: the one-statement reads that every OpenRosa request from an app user starts with."""

from __future__ import annotations

from flask import Flask

from app.db import lookup, transaction
from app.services import users
from tests.helpers import Factory


def test_a_lookup_sends_no_begin_on_sqlite_and_sees_what_was_committed(app: Flask, factory: Factory) -> None:
    user = factory.user()
    assert user.token is not None
    with app.app_context():
        with lookup() as connection:
            found = users.by_token(connection, user.token)
            driver = connection.connection.driver_connection
            if connection.dialect.name == "sqlite":
                assert driver is not None and not driver.in_transaction  # no BEGIN, so no lock held nor snapshot kept
        assert found is not None and found.username == user.username
        with transaction(write=True) as session:
            users.deactivate(session, user.username)
        with lookup() as connection:
            assert users.by_token(connection, user.token) is None  # the next lookup sees the revocation at once


def test_a_request_without_a_session_cookie_sets_none(app: Flask, factory: Factory) -> None:
    """Phones never send a session cookie; the signer is then not built, and nothing is set either."""
    user = factory.user()
    response = app.test_client().get(f"{user.prefix}/formList")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_a_request_that_reads_the_session_still_varies_on_the_cookie(app: Flask, factory: Factory) -> None:
    """The empty-session shortcut applies only to a session nobody read, as Flask's own ``save_session`` has it:
    a request that read the (empty) session still says ``Vary: Cookie``; one that stored something sets it."""
    user = factory.user()
    phone = app.test_client().get(f"{user.prefix}/formList")  # this request reads the (empty) session
    assert phone.status_code == 200
    assert "Cookie" in phone.headers.get("Vary", "")
    assert "Set-Cookie" not in phone.headers
    page = app.test_client().get("/login")
    assert page.status_code == 200
    assert "Set-Cookie" in page.headers  # the login form's CSRF token lives in the session
