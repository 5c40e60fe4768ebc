"""Flask's signed-cookie sessions, opened cheaply for the requests that carry no session cookie.

Flask builds an itsdangerous signer for every request before it looks for the cookie, and works out the cookie's
settings after every request before it sees there is nothing to save. Phones never send a cookie, and every
OpenRosa request would pay for both; here the signer is built only when there is a cookie to check, and an
empty session that nobody touched is not saved.
"""

from __future__ import annotations

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin


class CookieSessions(SecureCookieSessionInterface):
    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and (
            "HTTP_COOKIE" not in request.environ or not request.cookies.get(self.get_cookie_name(app))
        ):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not session and not session.modified and not session.accessed:
            return  # nothing to set or delete, and no Vary: Cookie to add (the parent would work that out slower)
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    app.session_interface = CookieSessions()
