"""The JSON API, version 1, under /api/v1 (flask-smorest); its OpenAPI document is /api/v1/openapi.json.

One module per resource (auth, firms, submissions, catalogue), nested in one ``api_v1`` blueprint whose error
handlers make every error a JSON problem (app.api.v1.problems). A fallback blueprint answers whatever under
/api/v1 matches no route, so unknown paths (404) and wrong methods (405) are problems too, not HTML pages.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, NoReturn

from flask import Blueprint as FlaskBlueprint
from flask import Flask, current_app, request
from flask_smorest import Api, Blueprint
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from app.api.v1 import auth, catalogue, firms, indicators, kobo, problems, submissions
from app.schemas.api import ProblemOut

PREFIX = "/api/v1"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
SECURITY_SCHEME = "bearerAuth"
CONFIG = {
    "API_TITLE": "ChainLift API",
    "API_VERSION": "1",
    "OPENAPI_VERSION": "3.1.0",
    "OPENAPI_URL_PREFIX": PREFIX,
    "OPENAPI_JSON_PATH": "openapi.json",
    "API_SPEC_OPTIONS": {
        "info": {
            "description": "Firm panel, submissions and their review, and the survey catalogue. Authenticate with "
            "POST /api/v1/auth/token, then send 'Authorization: Bearer <token>'. Errors are RFC 9457 problems."
        },
        "security": [{SECURITY_SCHEME: []}],
    },
}


class ChainLiftApi(Api):
    ERROR_SCHEMA = ProblemOut

    def _register_error_handlers(self) -> None:
        """Nothing app-wide: the API's blueprints render their own errors, the other front doors keep theirs."""

    def _register_responses(self) -> None:
        """The reusable error responses, documented as what they are: problems (application/problem+json)."""
        problem = {problems.PROBLEM_TYPE: {"schema": self.ERROR_SCHEMA}}
        for status in HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= HTTPStatus.BAD_REQUEST:
                response["content"] = problem
            self.spec.components.response(status.name, response, lazy=True)
        self.spec.components.response(
            self.DEFAULT_ERROR_RESPONSE_NAME, {"description": "An error", "content": problem}, lazy=True
        )


api_v1 = Blueprint("api_v1", __name__, url_prefix=PREFIX, description="ChainLift JSON API, version 1.")
for resource in (auth, firms, submissions, catalogue, indicators, kobo):
    api_v1.register_blueprint(resource.blp)
api_v1.register_blueprint(indicators.jobs_blp)
problems.install(api_v1)

fallback = FlaskBlueprint("api_v1_fallback", __name__, url_prefix=PREFIX)
problems.install(fallback)


def no_route(rest: str = "") -> NoReturn:  # noqa: ARG001 - the path is only matched
    """404 for an unknown path, 405 (with Allow) for a known path asked with another method."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in METHODS:
        try:
            rule, _ = adapter.match(method=method, return_rule=True)
        except HTTPException:
            continue
        if rule.endpoint.partition(".")[0] != fallback.name:
            allowed.append(method)
    if allowed:  # Flask answers HEAD wherever GET is routed, and OPTIONS everywhere
        raise MethodNotAllowed(valid_methods=[*allowed, *(["HEAD"] if "GET" in allowed else []), "OPTIONS"])
    raise NotFound(f"There is no API endpoint at {request.path}; see {PREFIX}/openapi.json.")


# One endpoint per rule: werkzeug redirects between rules of one endpoint that share defaults.
fallback.add_url_rule("", "root", no_route, methods=METHODS)
fallback.add_url_rule("/", "root_slash", no_route, methods=METHODS)
fallback.add_url_rule("/<path:rest>", "anything", no_route, methods=METHODS)


def register_api(app: Flask) -> ChainLiftApi:
    for key, value in CONFIG.items():
        app.config.setdefault(key, value)
    api = ChainLiftApi(app)
    api.spec.components.security_scheme(SECURITY_SCHEME, {"type": "http", "scheme": "bearer"})
    api.register_blueprint(api_v1)
    for resource in (auth, firms, submissions, catalogue, indicators, kobo):
        api.spec.tag({"name": resource.TAG, "description": resource.blp.description})
    app.register_blueprint(fallback)
    return api
