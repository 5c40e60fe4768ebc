"""Pages for people. For now: the home page that tells how to connect ODK Collect, and readable errors."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException

from app.web import headers, sessions
from app.web.health import health

pages = Blueprint("pages", __name__)


@pages.route("/")
def home() -> str:
    return render_template("home.html", server_url=request.host_url.rstrip("/"))


def _http_error(exc: HTTPException) -> Response | HTTPException:
    if request.blueprint in {"openrosa", "openrosa_key"}:
        return exc  # the blueprint renders its own OpenRosa XML
    body = render_template("error.html", code=exc.code, name=exc.name, description=exc.description)
    return Response(body, status=exc.code or 500, content_type="text/html; charset=utf-8")


def register_pages(app: Flask) -> None:
    headers.init_app(app)
    sessions.init_app(app)
    app.register_blueprint(pages)
    app.register_blueprint(health)
    app.register_error_handler(HTTPException, _http_error)
