"""Security headers on every response, and a strict Content-Security-Policy on pages.

Scripts come only from this server (plotly.js from the installed wheel, our own files); no inline script runs.
Plotly sets inline styles on the charts it draws, hence ``style-src 'unsafe-inline'``.
"""

from __future__ import annotations

from flask import Flask, Response, request

from app.response_headers import set_headers

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


ALWAYS = (("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin"), ("X-Frame-Options", "DENY"))
DATA_PAGES = frozenset({"overview", "chains", "fieldwork", "exports", "admin"})


def add_security_headers(response: Response) -> Response:
    extra: list[tuple[str, str]] = []
    if response.mimetype == "text/html":
        extra.append(("Content-Security-Policy", CSP))
    if request.is_secure:
        extra.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    if request.blueprint in DATA_PAGES:
        extra.append(("Cache-Control", "no-store"))  # data pages: never kept by shared caches
    set_headers(response.headers, (*ALWAYS, *extra), replace=False)
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
    # Session cookies: HttpOnly, SameSite=Lax, and Secure whenever the public address is https.
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    base = app.config.get("PUBLIC_BASE_URL") or ""
    app.config.setdefault("SESSION_COOKIE_SECURE", base.startswith("https://"))
