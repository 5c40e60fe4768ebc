"""OpenRosa response envelopes, the headers every OpenRosa response carries, and errors as XML."""

from __future__ import annotations

import functools
import logging
import xml.etree.ElementTree as ET  # building XML only; untrusted XML is parsed in app.ingest with defusedxml

from flask import Response, current_app, g
from sqlalchemy.exc import DataError, OperationalError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge
from werkzeug.http import http_date

from app.api.openrosa.blueprint import blueprint
from app.errors import DomainError
from app.response_headers import set_headers

log = logging.getLogger(__name__)
OPENROSA_RESPONSE_NS = "http://openrosa.org/http/response"
XML_TYPE = "text/xml; charset=utf-8"


def accept_content_length() -> int:
    return int(current_app.config["MAX_CONTENT_LENGTH"])


def xml_response(root: ET.Element, status: int = 200) -> Response:
    return Response(_serialise(root), status=status, content_type=XML_TYPE)


def _serialise(root: ET.Element) -> bytes:
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


def message(text: str, status: int, *, nature: str = "") -> Response:
    """``<OpenRosaResponse>``; Collect shows the text of its first ``<message>`` to the enumerator."""
    return Response(_message_body(text, nature), status=status, content_type=XML_TYPE)


@functools.lru_cache(maxsize=256)
def _message_body(text: str, nature: str) -> bytes:
    """Built once per text: most messages are the same few sentences, sent on every submission."""
    root = ET.Element("OpenRosaResponse", {"xmlns": OPENROSA_RESPONSE_NS, "items": "0"})
    ET.SubElement(root, "message", {"nature": nature}).text = text
    return _serialise(root)


def error(text: str, status: int) -> Response:
    return message(text, status, nature="error")


@blueprint.after_request
def _openrosa_headers(response: Response) -> Response:
    headers = response.headers
    protocol = (
        ("X-OpenRosa-Version", "1.0"),
        ("X-OpenRosa-Accept-Content-Length", str(accept_content_length())),
        ("Content-Language", "en"),
    )
    set_headers(headers, protocol, replace=True)
    set_headers(headers, (("Date", http_date()), ("Cache-Control", "no-store")), replace=False)
    return response


@blueprint.errorhandler(DomainError)
def _domain_error(exc: DomainError) -> Response:
    return error(exc.message, exc.status)


@blueprint.errorhandler(OperationalError)
def _database_unavailable(exc: OperationalError) -> Response:
    log.error("database unavailable: %s", exc.orig or exc)
    response = error("The server's database is unavailable right now; nothing was stored. Send again later.", 503)
    response.headers["Retry-After"] = "30"
    return response


@blueprint.errorhandler(DataError)
def _data_error(exc: DataError) -> Response:
    """A value the database refuses (too long, out of range): the client's data, so a 400, never a 500."""
    log.warning("database refused a value: %s", exc.orig or exc)
    return error("The submission contains a value the server cannot store (too long or out of range).", 400)


@blueprint.errorhandler(RequestEntityTooLarge)
def _too_large(_exc: RequestEntityTooLarge) -> Response:
    limit_mb = accept_content_length() / 1_000_000
    return error(
        f"The submission is larger than this server accepts ({limit_mb:g} MB in one request), or has too many "
        "parts. Send large media files separately or ask an admin to raise MAX_UPLOAD_BYTES.",
        413,
    )


@blueprint.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    response = error(exc.description or exc.name, exc.code or 500)
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    challenge = g.get("auth_challenge")
    if exc.code == 401 and challenge:
        response.headers["WWW-Authenticate"] = challenge
    return response
