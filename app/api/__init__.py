"""HTTP front doors. Each blueprint turns requests into service calls and owns the transaction."""

from __future__ import annotations

from flask import Flask

from app.api.kobo import blueprint as kobo
from app.api.openrosa import blueprint as openrosa
from app.api.v1 import register_api


def register_blueprints(app: Flask) -> None:
    # Collect's server URL is the site root (http://host:5000 → /formList, /submission) or, for app users set
    # up by QR code, /key/<token> (→ /key/<token>/formList, …), as with ODK Central's app-user URLs.
    app.register_blueprint(openrosa, url_prefix="")
    app.register_blueprint(openrosa, url_prefix="/key/<token>", name="openrosa_key")
    app.register_blueprint(kobo)  # KoboToolbox REST services push to /kobo/hook/<token>
    register_api(app)  # the JSON API under /api/v1
