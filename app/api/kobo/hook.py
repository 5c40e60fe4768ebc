"""``POST /kobo/hook/<token>``: KoBo's REST services push each new submission here, as JSON or XML.

What KoBo does with our answer (../shared/docs/kobo.md §1.5) decides every status code:
- any status below 400 is success; we send 201 (new submission) or 200 (an edit, a duplicate, an older version)
  only after the payload and its internal representation are committed;
- 4xx is a permanent failure (no retry): a payload we will never be able to store, with a JSON problem saying why;
- 502/503/504 are retried (up to 3 times, backing off): we answer 503 whenever storing failed for a reason that
  may pass (database unavailable, a race, an unexpected error). Never a 500: an error we did not foresee may be
  transient, and KoBo will retry a 503, whereas a 500 is given up at once.
"""

from __future__ import annotations

import logging
from typing import NoReturn

from flask import Blueprint, Response, jsonify, request
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from app.api.v1.problems import problem
from app.db import transaction
from app.errors import DomainError
from app.ingest.kobo import KoboRecordError
from app.models import Form, KoboHook, KoboSource
from app.services import kobo, kobo_hooks
from app.services.kobo import JSON_TYPE, XML_TYPE, Delivery, Outcome, Stored
from app.services.kobo_hooks import HookAuthError

log = logging.getLogger(__name__)
blueprint = Blueprint("kobo", __name__)
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
RACE_RETRIES = 3
RETRY_AFTER = "60"
CONTENT_TYPES = {
    "application/json": JSON_TYPE,
    "application/xml": XML_TYPE,
    "text/xml": XML_TYPE,
}


class UnavailableError(Exception):
    """Storing failed for a reason that may pass: answer 503 so that KoBo retries."""


def _refuse(status: int, detail: str, headers: dict[str, str] | None = None) -> NoReturn:
    raise RefusalError(status, detail, headers or {})


class RefusalError(Exception):
    def __init__(self, status: int, detail: str, headers: dict[str, str]) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers


def _hook(token: str) -> tuple[int, int]:
    """(hook id, form pk) of the active hook behind this URL, its credentials checked."""
    with transaction() as session:
        hook: KoboHook | None = kobo_hooks.find_hook(session, token)
        if hook is None:
            _refuse(404, "There is no active KoBo hook at this URL. Check the endpoint in KoBo's REST service.")
        hook_id, form_pk = hook.id, hook.form_pk
        auth = request.authorization
        basic = (auth.username or "", auth.password or "") if auth is not None and auth.type == "basic" else None
        header_value = request.headers.get(hook.header_name) if hook.header_name else None
        try:
            kobo_hooks.check_credentials(hook, basic, header_value)
            refused = None
        except HookAuthError as exc:
            refused = exc
    if refused is not None:
        _note_failure(hook_id, refused.status, refused.message)  # visible in the hook's state: a KoBo set-up error
        challenge = {"WWW-Authenticate": 'Basic realm="ChainLift KoBo hook"'} if refused.status == 401 else {}
        _refuse(refused.status, refused.message, challenge)
    return hook_id, form_pk


def _payload() -> tuple[bytes, str]:
    content_type = CONTENT_TYPES.get(request.mimetype)
    if content_type is None:
        _refuse(415, "Send KoBo's JSON (application/json) or XML (application/xml) submission payload.")
    if request.content_length is not None and request.content_length > MAX_PAYLOAD_BYTES:
        _refuse(413, f"The payload is larger than {MAX_PAYLOAD_BYTES // (1024 * 1024)} MB.")
    body = request.stream.read(MAX_PAYLOAD_BYTES + 1)
    if len(body) > MAX_PAYLOAD_BYTES:
        _refuse(413, f"The payload is larger than {MAX_PAYLOAD_BYTES // (1024 * 1024)} MB.")
    if not body:
        _refuse(400, "The request has no body: expected one KoBo submission.")
    return body, content_type


def _store(hook_id: int, form_pk: int, delivery: Delivery) -> Stored:
    """The write transaction; run again if a concurrent delivery of the same record won a race."""
    for attempt in range(RACE_RETRIES):
        try:
            with transaction(write=True) as session:
                form = session.get(Form, form_pk)
                assert form is not None  # noqa: S101 - a hook's form is never deleted
                stored = kobo.store(session, form, delivery)
                status = 201 if stored.outcome is Outcome.CREATED else 200
                kobo_hooks.record_delivery(session, hook_id, status, stored.outcome)
                return stored
        except IntegrityError as exc:
            if attempt == RACE_RETRIES - 1:
                raise UnavailableError("a concurrent delivery of the same record kept winning") from exc
            log.info("KoBo delivery to hook %s raced another; retrying", hook_id)
    raise AssertionError("unreachable")


def _note_failure(hook_id: int, status: int, detail: str) -> None:
    """Best effort: with the database down, there is nowhere to write it (the log has it)."""
    try:
        with transaction(write=True) as session:
            kobo_hooks.record_delivery(session, hook_id, status, error=detail)
    except SQLAlchemyError:
        log.warning("could not record the failed delivery to KoBo hook %s", hook_id)


@blueprint.route("/kobo/hook/<token>", methods=["POST"])
def receive(token: str) -> Response:
    hook_id, form_pk = _hook(token)
    try:
        body, content_type = _payload()
        delivery = Delivery(
            body=body,
            content_type=content_type,
            source=KoboSource.HOOK,
            hook_id=hook_id,
            user_agent=request.user_agent.string,
        )
        stored = _store(hook_id, form_pk, delivery)
    except RefusalError as exc:
        _note_failure(hook_id, exc.status, exc.detail)
        raise
    except KoboRecordError as exc:
        _note_failure(hook_id, 422, str(exc))
        raise
    except DomainError as exc:
        _note_failure(hook_id, exc.status, exc.message)
        raise
    except DataError as exc:
        _note_failure(hook_id, 422, "a value the database cannot store")
        raise RefusalError(
            422, "The payload holds a value the server cannot store (too long or out of range).", {}
        ) from exc
    except Exception as exc:
        _note_failure(hook_id, 503, f"not stored: {type(exc).__name__}")
        raise
    response = jsonify(
        {
            "result": stored.outcome.value,
            "instance_id": stored.instance_id,
            "kobo_id": stored.kobo_id,
            "message": _MESSAGES[stored.outcome],
        }
    )
    response.status_code = 201 if stored.outcome is Outcome.CREATED else 200
    return response


@blueprint.route("/kobo/hook/<token>", methods=["GET", "PUT", "PATCH", "DELETE"])
def wrong_method(token: str) -> Response:  # noqa: ARG001 - the URL is only matched
    """A JSON answer (not an HTML page) for a browser or a script that tries the hook's URL."""
    return problem(405, "KoBo's REST service POSTs submissions to this URL.", headers={"Allow": "POST"})


_MESSAGES = {
    Outcome.CREATED: "Stored.",
    Outcome.EDITED: "Stored as a new version of the submission.",
    Outcome.DUPLICATE: "Already stored; nothing changed.",
    Outcome.STALE: "An older version than the one stored; kept as history.",
    Outcome.RESTORED: "The submission was marked deleted; it is back.",
}


@blueprint.errorhandler(RefusalError)
def _refused(exc: RefusalError) -> Response:
    return problem(exc.status, exc.detail, headers=exc.headers)


@blueprint.errorhandler(KoboRecordError)
def _invalid(exc: KoboRecordError) -> Response:
    return problem(422, str(exc))


@blueprint.errorhandler(DomainError)
def _domain(exc: DomainError) -> Response:
    return problem(exc.status, exc.message)


@blueprint.errorhandler(HTTPException)
def _http(exc: HTTPException) -> Response:
    status = exc.code or 503
    if status >= 500:
        return _unavailable(exc)
    return problem(status, exc.description or "The request cannot be handled.")


@blueprint.errorhandler(Exception)
def _unavailable(exc: Exception) -> Response:
    """Database down, a lost race, or a fault of ours: nothing was stored, and KoBo should send it again."""
    if isinstance(exc, SQLAlchemyError | UnavailableError | OSError):
        log.error("KoBo delivery not stored: %s", exc)
    else:
        log.error("KoBo delivery not stored: unexpected error", exc_info=exc)
    return problem(
        503,
        "The submission was not stored: the server cannot store it right now. KoBo will send it again.",
        headers={"Retry-After": RETRY_AFTER},
    )
