"""Every error under /api/v1 as an RFC 9457 problem (application/problem+json), never an HTML page.

The handlers are attached to the API's blueprints (not to the app), so the OpenRosa endpoints and the pages keep
their own error formats. Requests that match no API route reach the API's fallback blueprint, so unknown paths
and wrong methods under /api/v1 are problems too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, NoReturn

from flask import Blueprint, Response, current_app, json
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.errors import DomainError

log = logging.getLogger(__name__)
PROBLEM_TYPE = "application/problem+json"
BEARER_CHALLENGE = 'Bearer realm="ChainLift API"'
VALIDATION_DETAIL = "The request is not valid; see errors."


class ProblemError(HTTPException):
    """An error with a problem body chosen by the caller: extra members, field errors or headers."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: Mapping[str, list[str]] | None = None,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.code = status
        self.errors = dict(errors) if errors else None
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})


def fail(
    status: int,
    detail: str,
    *,
    errors: Mapping[str, list[str]] | None = None,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> NoReturn:
    """``abort`` with a problem body; typed as never returning (flask-smorest's ``abort`` is untyped)."""
    raise ProblemError(status, detail, errors=errors, extra=extra, headers=headers)


def known(found: int | None, arg: str, message: str) -> int:
    """The id a filter's code names; 422 on that parameter when the code names nothing."""
    if found is None:
        fail(422, message, errors={arg: [message]})
    return found


def unauthorised(detail: str, *, invalid_token: bool = False) -> NoReturn:
    challenge = BEARER_CHALLENGE + (', error="invalid_token"' if invalid_token else "")
    fail(401, detail, headers={"WWW-Authenticate": challenge})


def flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as {"field.path": [messages]} (list items by index: "ids.0")."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            for path, texts in flatten(value, f"{prefix}.{key}" if prefix else str(key)).items():
                flat.setdefault(path, []).extend(texts)
    elif isinstance(messages, list | tuple) and all(isinstance(m, str) for m in messages):
        flat[prefix or "_schema"] = list(messages)
    elif isinstance(messages, list | tuple):
        for item in messages:
            for path, texts in flatten(item, prefix).items():
                flat.setdefault(path, []).extend(texts)
    else:
        flat[prefix or "_schema"] = [str(messages)]
    return flat


def _webargs_errors(messages: Any) -> dict[str, list[str]]:
    """webargs groups messages by location ({"json": {...}, "query": {...}}); field paths do not need it."""
    if isinstance(messages, Mapping):
        merged: dict[str, list[str]] = {}
        for location_messages in messages.values():
            for path, texts in flatten(location_messages).items():
                merged.setdefault(path, []).extend(texts)
        return merged
    return flatten(messages)


def problem(
    status: int,
    detail: str,
    *,
    errors: Mapping[str, list[str]] | None = None,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": _title(status), "status": status, "detail": detail}
    if errors:
        body["errors"] = dict(errors)
    body.update(extra or {})
    response = current_app.response_class(json.dumps(body), status=status, mimetype=PROBLEM_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401 and "WWW-Authenticate" not in response.headers:
        response.headers["WWW-Authenticate"] = BEARER_CHALLENGE
    return response


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    if isinstance(exc, ProblemError):
        return problem(
            status, exc.description or _title(status), errors=exc.errors, extra=exc.extra, headers=exc.headers
        )
    headers = {name: value for name, value in exc.get_headers() if name.lower() != "content-type"}
    data = getattr(exc, "data", None)  # flask-smorest / webargs abort(): messages, headers
    errors = None
    if isinstance(data, Mapping):
        headers.update(data.get("headers") or {})
        if "messages" in data or "errors" in data:
            errors = _webargs_errors(data.get("errors", data.get("messages")))
    if isinstance(exc, InternalServerError):
        detail = "The server could not complete the request. The error has been logged."
    elif status == 422 and errors:
        detail = VALIDATION_DETAIL
    else:
        detail = exc.description or _title(status)
    return problem(status, detail, errors=errors, headers=headers)


def _domain_error(exc: DomainError) -> Response:
    return problem(exc.status, exc.message)


def _database_unavailable(exc: OperationalError) -> Response:
    log.error("database unavailable: %s", exc.orig or exc)
    return problem(503, "The database is unavailable right now; try again later.", headers={"Retry-After": "30"})


def install(blueprint: Blueprint) -> None:
    """Render every error raised under ``blueprint`` (and its nested blueprints) as a problem."""
    blueprint.register_error_handler(HTTPException, _http_error)
    blueprint.register_error_handler(DomainError, _domain_error)
    blueprint.register_error_handler(OperationalError, _database_unavailable)
