"""Flask's signed-cookie sessions, opened cheaply for the requests that carry no session cookie.

Flask builds an itsdangerous signer for every request before it looks for the cookie. Phones never send one,
and every OpenRosa request would pay for it; here the signer is built only when there is a cookie to check.
"""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface


class CookieSessions(SecureCookieSessionInterface):
    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    app.session_interface = CookieSessions()
