"""``GET /healthz``: is this process up, can it reach the database, is the schema migrated? For load balancers.

200 ``{"status": "ok", …}`` when all holds; 503 with what failed otherwise. It needs no login and reveals no data,
only the schema revisions.
"""

from __future__ import annotations

import logging
from functools import cache

from flask import Blueprint, Response, jsonify
from sqlalchemy.exc import SQLAlchemyError

from app.db import transaction
from app.services.backup.schema import head_revision, revision

log = logging.getLogger(__name__)
health = Blueprint("health", __name__)


@cache
def _head() -> str:
    return head_revision()


@health.route("/healthz")
def healthz() -> tuple[Response, int]:
    try:
        with transaction() as session:
            current = revision(session.connection())
    except SQLAlchemyError:
        log.warning("health check: the database cannot be reached", exc_info=True)
        return jsonify(status="unavailable", database="unreachable"), 503
    migrated = current == _head()
    body = {"status": "ok" if migrated else "unavailable", "database": "ok", "schema": current, "head": _head()}
    if not migrated:
        body["detail"] = "The database is not at the code's migration head: run `flask --app wsgi db upgrade`."
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if migrated else 503
