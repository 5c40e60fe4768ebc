"""Third-party browser code served from the installed packages, never from a CDN: field offices are often offline.

plotly.js comes inside the ``plotly`` wheel from PyPI; nothing is copied into this repository.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from flask import Blueprint, Response, send_file

bp = Blueprint("assets", __name__, url_prefix="/assets")


@cache
def plotly_js() -> Path:
    return Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))


@bp.route("/plotly.min.js")
def plotly() -> Response:
    return send_file(plotly_js(), mimetype="text/javascript", max_age=7 * 24 * 3600, conditional=True)
