"""Security headers on every response, and a strict Content-Security-Policy on pages.

Scripts come only from this server (plotly.js from the installed wheel, our own files); no inline script runs.
Plotly sets inline styles on the charts it draws, hence ``style-src 'unsafe-inline'``.
"""

from __future__ import annotations

from flask import Flask, Response, request

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


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", CSP)
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.blueprint in {"overview", "chains", "fieldwork", "exports", "admin"}:
        headers.setdefault("Cache-Control", "no-store")  # data pages: never kept by shared caches
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
    # Session cookies: HttpOnly, SameSite=Lax, and Secure whenever the public address is https.
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    base = app.config.get("PUBLIC_BASE_URL") or ""
    app.config.setdefault("SESSION_COOKIE_SECURE", base.startswith("https://"))
