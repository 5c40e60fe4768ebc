"""Form Submission API: HEAD and POST /submission (../shared/docs/openrosa.md §5).

Order of work for a POST, so that a 201/202 always means everything is durably stored:
1. parse the instance (pure);
2. write the attachment parts the instance refers to into the blob store, fsynced, outside any transaction;
3. check the form and record the rows in one write transaction; a race between identical POSTs ends in the
   UNIQUE constraint, and the loser simply runs again and sees the winner's row.
If the transaction did not commit (refused, conflict, database unavailable), the blobs this request created are
removed again: nothing is half-written. Only when the commit itself failed, whose outcome is unknown, they stay.
"""

from __future__ import annotations

import logging

from flask import Response, current_app, g, request
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import BadRequest

from app.api.openrosa.auth import current_user, login_required
from app.api.openrosa.blueprint import blueprint
from app.api.openrosa.multipart import Body, parse_body
from app.api.openrosa.responses import message
from app.db import write
from app.errors import InvalidError
from app.ingest.instance import Instance, InstanceError, read_instance
from app.services import forms, submissions
from app.services.blobs import BlobStore, Claims
from app.services.submissions import IncomingFile

log = logging.getLogger(__name__)
XML_PART = "xml_submission_file"
MAX_XML_BYTES = 10 * 1024 * 1024
RACE_RETRIES = 3


@blueprint.route("/submission", methods=["HEAD", "GET"])
@login_required
def submission_preflight() -> Response:
    """Collect sends HEAD before every upload and requires 204 (never 200)."""
    forms.check_collects(current_user())
    return Response(status=204)


def _xml_part(body: Body) -> bytes:
    part = body.first(XML_PART)
    if part is None:
        raise BadRequest(f"Required multipart POST field {XML_PART} missing.")
    data = part.body.read(MAX_XML_BYTES + 1)  # a file part, or the XML sent as a plain form field
    if len(data) > MAX_XML_BYTES:
        raise InvalidError(f"The submission XML is larger than {MAX_XML_BYTES // (1024 * 1024)} MB.")
    return data


def _store_parts(body: Body, names: set[str], claims: Claims) -> dict[str, IncomingFile]:
    store: BlobStore = current_app.extensions["blobs"]
    stored: dict[str, IncomingFile] = {}
    for part in body.parts:
        if part.name == XML_PART or part.name not in names or part.name in stored:
            continue  # Collect sends every file in the instance folder; only referenced ones are kept
        ref = store.put_stream(part.body, claims)
        stored[part.name] = IncomingFile(ref.sha256, ref.size, part.content_type)
    return stored


@blueprint.route("/submission", methods=["POST"])
@login_required
def submission_post() -> Response:
    forms.check_collects(current_user())  # before the body is read: a manager's upload is refused unread
    claims = Claims()
    try:
        with parse_body() as body:
            xml = _xml_part(body)
            part_names = {part.name for part in body.parts if part.name != XML_PART}
            try:
                instance = read_instance(xml)
                mentioned = instance.mentioned_files(part_names)
            except InstanceError as exc:
                raise InvalidError(str(exc)) from exc
            files = _store_parts(body, mentioned, claims)
        received = _record(instance, xml, files)
    except BaseException:
        if not g.get("submission_committing"):
            claims.discard()
        raise
    finally:
        claims.release()
    return _success(received)


def _record(instance: Instance, xml: bytes, files: dict[str, IncomingFile]) -> submissions.Received:
    """The write transaction, run again if an identical POST won a race for the same instanceID."""
    for attempt in range(RACE_RETRIES):
        g.submission_committing = False
        try:
            with write() as work:
                received = submissions.receive(
                    work,
                    actor=current_user(),
                    instance=instance,
                    xml=xml,
                    files=files,
                    device_id=_clip(request.args.get("deviceID"), 255),
                    user_agent=_clip(request.user_agent.string, 500),
                )
                g.submission_committing = True  # from here on, whether it committed is the database's answer
        except IntegrityError:
            if attempt == RACE_RETRIES - 1:
                raise
            log.info("instance %s raced an identical POST; retrying", instance.instance_id)
        else:
            return received
    raise AssertionError("unreachable")


def _clip(value: str | None, length: int) -> str | None:
    """Client-supplied metadata is kept, cut to its column: it must never make a submission fail."""
    return value[:length] if value else None


def _success(received: submissions.Received) -> Response:
    if not received.stored_new:
        response = message("This submission was already received; nothing new was stored.", 202)
    elif received.missing:
        response = message(
            f"Submission received; waiting for {len(received.missing)} attachment(s): {', '.join(received.missing)}.",
            201,
        )
    else:
        response = message("Full submission upload was successful!", 201)
    return response
