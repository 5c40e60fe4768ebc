"""Receiving OpenRosa submissions: idempotent on instanceID, edits by deprecatedID, attachments by name.

The rules are ODK Central's (../shared/docs/openrosa.md §5.3). Attachment bytes are written to the blob store
*before* the database transaction (see ``api/openrosa/submission.py``); this module only records rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NoReturn, cast

from sqlalchemy import Connection, Table, bindparam, exists, insert, select, update
from sqlalchemy.orm import Session

from app.db import Work, utcnow
from app.errors import ConflictError, InvalidError, NotFoundError
from app.ingest.instance import Instance
from app.models import (
    Attachment,
    Form,
    FormAssignment,
    FormState,
    FormVersion,
    ReviewState,
    Submission,
    SubmissionVersion,
)
from app.prepared import Prepared
from app.services import processing
from app.services.forms import check_assignment
from app.services.users import Actor
from app.vocab import ProcessingStatus

AUDIT_PATH = "meta/audit"
MAX_FILE_NAME = 255


@dataclass(frozen=True)
class IncomingFile:
    sha256: str
    size: int
    content_type: str


@dataclass(frozen=True)
class Received:
    submission_id: int
    stored_new: bool  # False: an exact duplicate, nothing changed (202)
    missing: tuple[str, ...]  # expected attachments still to come


@dataclass(frozen=True)
class Target:
    """What the submission path needs to know about a form version (no XForm bytes)."""

    form_pk: int
    form_id: str
    version_id: int
    binary_paths: list[str]
    mapped: bool
    existing_id: int | None  # the version already stored under this instanceID (a resubmission), if any


@dataclass(frozen=True)
class ExpectedFile:
    name: str
    encrypted_index: int | None = None
    client_audit: bool = False


# The submission path's statements are built and compiled once and run on the driver's cursor (app.prepared):
# constructing and executing SQLAlchemy statements per request costs more than SQLite takes to run them. Core on
# the tables, not the ORM unit of work, for the same reason.
_forms, _versions, _assigned = (cast(Table, m.__table__) for m in (Form, FormVersion, FormAssignment))
_subs, _svs = cast(Table, Submission.__table__), cast(Table, SubmissionVersion.__table__)
FIND_TARGET = Prepared(
    select(
        _forms.c.id,
        _forms.c.state,
        _versions.c.id,
        _versions.c.binary_paths,
        _versions.c.mapping,
        exists().where(_assigned.c.form_pk == _forms.c.id),
        exists().where(_assigned.c.form_pk == _forms.c.id, _assigned.c.user_id == bindparam("user_id")),
        select(_svs.c.id)
        .where(_svs.c.form_pk == _forms.c.id, _svs.c.instance_id == bindparam("iid"))
        .scalar_subquery(),
    )
    .join(_versions, _versions.c.form_pk == _forms.c.id)
    .where(_forms.c.form_id == bindparam("form_id"), _versions.c.version == bindparam("version"))
)
SUBMISSION_COLUMNS = ("form_pk", "instance_id", "submitter_id", "created_at", "processing_errors")
VERSION_COLUMNS = (
    "submission_id",
    "form_pk",
    "form_version_id",
    "instance_id",
    "deprecated_id",
    "instance_name",
    "xml",
    "xml_sha256",
    "submitter_id",
    "device_id",
    "user_agent",
    "received_at",
    "encrypted",
    "encrypted_key",
    "encrypted_xml_name",
    "encrypted_signature",
)
INSERT_SUBMISSION = Prepared(
    insert(_subs).values({name: bindparam(name) for name in SUBMISSION_COLUMNS}).returning(_subs.c.id)
)
INSERT_VERSION = Prepared(insert(_svs).values({name: bindparam(name) for name in VERSION_COLUMNS}).returning(_svs.c.id))
POINT_TO_VERSION = Prepared(
    update(_subs)
    .where(_subs.c.id == bindparam("sid"))
    .values(current_version_id=bindparam("vid"), processing_status=bindparam("status"), processed_at=bindparam("at"))
)


def find_form_version(work: Work, actor: Actor, instance: Instance) -> Target:
    """The form version an instance belongs to, checked for access and state, and the version already stored
    under the instance's ID: one query on the usual path."""
    params = {
        "form_id": instance.form_id,
        "version": instance.version,
        "user_id": actor.id,
        "iid": instance.instance_id,
    }
    row = FIND_TARGET.first(work.connection, params)
    if row is None:
        _raise_not_found(work.session, instance)
    form_pk, state, version_id, binary_paths, mapping, is_restricted, is_mine, existing_id = row
    check_assignment(actor, instance.form_id, restricted=is_restricted, assigned=is_mine)
    if state is not FormState.OPEN:
        raise ConflictError(f"The form '{instance.form_id}' is closed and is not accepting submissions.")
    return Target(form_pk, instance.form_id, version_id, list(binary_paths), bool(mapping), existing_id)


def _raise_not_found(session: Session, instance: Instance) -> NoReturn:
    form = session.scalar(select(Form).where(Form.form_id == instance.form_id))
    if form is None:
        raise NotFoundError(f"There is no form with id '{instance.form_id}' on this server.")
    raise NotFoundError(
        f"The form version specified in this submission '{instance.version}' does not exist "
        f"for form '{instance.form_id}'. Download the form again and re-enter the data."
    )


def expected_files(binary_paths: list[str], instance: Instance) -> list[ExpectedFile]:
    """The attachments this instance refers to: binary answers (and the audit log), or encrypted parts."""
    if instance.encrypted is not None:
        media = instance.encrypted.media_files
        files = [ExpectedFile(name, i, name == "audit.csv.enc") for i, name in enumerate(media)]
        return [*files, ExpectedFile(instance.encrypted.xml_file, len(media))]
    found: dict[str, ExpectedFile] = {}
    for path in binary_paths:
        for value in instance.values_at(path):
            if len(value) > MAX_FILE_NAME:
                raise InvalidError(f"The file name in {path} is longer than {MAX_FILE_NAME} characters.")
            if value and value not in found:
                found[value] = ExpectedFile(value, client_audit=path == AUDIT_PATH)
    return list(found.values())


def receive(
    work: Work,
    *,
    actor: Actor,
    instance: Instance,
    xml: bytes,
    files: Mapping[str, IncomingFile],
    device_id: str | None,
    user_agent: str | None,
) -> Received:
    """Record one POST of an instance. ``files`` maps part names to blobs already stored.

    This is the hottest path of the server: a new submission costs one lookup (which also finds a duplicate)
    and three writes (submission, version, current-version pointer), on the transaction's connection; the ORM
    session is made and objects loaded only where rules need them (resubmissions, edits, attachments, mapping).
    """
    target = find_form_version(work, actor, instance)
    xml_sha = hashlib.sha256(xml).hexdigest()
    expected = expected_files(target.binary_paths, instance)

    db = work.connection
    if target.existing_id is not None:
        session = work.session
        existing = session.get(SubmissionVersion, target.existing_id)
        if existing is None:
            raise RuntimeError(f"submission version {target.existing_id} vanished inside its own transaction")
        _check_resubmission(existing, xml_sha)
        changed, still_missing = attach(session, existing.id, expected, files, existing.attachments)
        return Received(existing.submission_id, changed, still_missing)

    previous = _edit_target(work.session, target.form_pk, instance.deprecated_id) if instance.deprecated_id else None
    now = utcnow()
    if previous is None:
        submission_id = _returned_id(
            INSERT_SUBMISSION,
            db,
            {
                "form_pk": target.form_pk,
                "instance_id": instance.instance_id,
                "submitter_id": actor.id,
                "created_at": now,
                "processing_errors": [],
            },
        )
    else:
        submission_id = previous.submission_id
    envelope = instance.encrypted
    # The UNIQUE (form, instanceID) constraint decides races between identical POSTs.
    version_id = _returned_id(
        INSERT_VERSION,
        db,
        {
            "submission_id": submission_id,
            "form_pk": target.form_pk,
            "form_version_id": target.version_id,
            "instance_id": instance.instance_id,
            "deprecated_id": instance.deprecated_id,
            "instance_name": instance.instance_name,
            "xml": xml,
            "xml_sha256": xml_sha,
            "submitter_id": actor.id,
            "device_id": device_id,
            "user_agent": user_agent,
            "received_at": now,
            "encrypted": envelope is not None,
            "encrypted_key": envelope.key if envelope else None,
            "encrypted_xml_name": envelope.xml_file if envelope else None,
            "encrypted_signature": envelope.signature if envelope else None,
        },
    )
    missing: tuple[str, ...] = ()
    if expected:
        carried = previous.attachments if previous is not None else []
        _, missing = attach(work.session, version_id, expected, files, [], carried=carried)
    mapped = target.mapped and envelope is None
    # Nothing to derive from an unmapped form or an encrypted instance: say so without a trip through the mapper.
    POINT_TO_VERSION.execute(
        db,
        {"sid": submission_id, "vid": version_id, "status": None if mapped else ProcessingStatus.NOT_MAPPED, "at": now},
    )
    if mapped or previous is not None:
        session = work.session
        submission = session.get(Submission, submission_id, populate_existing=True)
        if submission is None:
            raise RuntimeError(f"submission {submission_id} vanished inside its own transaction")
        if previous is not None:
            submission.review_state = ReviewState.EDITED
            submission.updated_at = now
        if mapped:
            processing.process(session, submission)  # a failure is recorded on the submission, never raised
        else:
            processing.mark_not_mapped(session, submission, had_rows=True)
    return Received(submission_id, True, missing)


def _returned_id(statement: Prepared, db: Connection, params: dict[str, object]) -> int:
    row = statement.first(db, params)
    if row is None:
        raise RuntimeError("an INSERT … RETURNING returned no row")
    new_id: int = row[0]
    return new_id


def _version_by_instance_id(session: Session, form_pk: int, instance_id: str) -> SubmissionVersion | None:
    return session.scalar(
        select(SubmissionVersion).where(
            SubmissionVersion.form_pk == form_pk, SubmissionVersion.instance_id == instance_id
        )
    )


def _check_resubmission(existing: SubmissionVersion, xml_sha: str) -> None:
    if existing.submission.deleted_at is not None:
        raise ConflictError("This submission has been deleted. You may not resubmit it.")
    if existing.xml_sha256 != xml_sha:
        raise ConflictError(
            "A submission already exists with this ID, but with different XML. Resubmissions to attach "
            "additional multimedia must resubmit an identical xml_submission_file."
        )


def _edit_target(session: Session, form_pk: int, deprecated_id: str) -> SubmissionVersion:
    previous = _version_by_instance_id(session, form_pk, deprecated_id)
    if previous is None:
        raise NotFoundError(
            "You tried to update an existing submission, but we can't find that submission to update "
            f"({deprecated_id})."
        )
    # Lock the logical submission: of two edits of the same version, the second must see the first and get a 409.
    submission = session.scalars(
        select(Submission)
        .where(Submission.id == previous.submission_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if submission.deleted_at is not None:
        raise ConflictError("This submission has been deleted. You may not edit it.")
    if submission.current_version_id != previous.id:
        raise ConflictError(
            f"You tried to update a submission, but the copy you were editing ({deprecated_id}) is now out "
            "of date. Please get the new version that has been submitted, and make your edits again."
        )
    return previous


def attach(
    session: Session,
    version_id: int,
    expected: list[ExpectedFile],
    files: Mapping[str, IncomingFile],
    existing: list[Attachment],
    *,
    carried: list[Attachment] | None = None,
) -> tuple[bool, tuple[str, ...]]:
    """Create the expected slots and fill those whose part arrived: (anything stored?, names still missing).

    ``existing`` are the version's slots; ``carried`` the previous version's, whose files an edit keeps.
    """
    slots = {a.name: a for a in existing}
    previous = {a.name: a for a in carried or []}
    changed = False
    missing: list[str] = []
    now = utcnow()
    for spec in expected:
        slot = slots.get(spec.name)
        if slot is None:
            slot = Attachment(
                version_id=version_id,
                name=spec.name,
                encrypted_index=spec.encrypted_index,
                client_audit=spec.client_audit,
            )
            session.add(slot)
            old = previous.get(spec.name)
            if old is not None and old.sha256 is not None:  # an edit keeps the files it still refers to
                slot.sha256, slot.size, slot.content_type, slot.received_at = (
                    old.sha256,
                    old.size,
                    old.content_type,
                    old.received_at,
                )
        incoming = files.get(spec.name)
        if incoming is not None and slot.sha256 != incoming.sha256:
            slot.sha256, slot.size, slot.content_type = incoming.sha256, incoming.size, incoming.content_type
            slot.received_at = now
            changed = True
        if slot.sha256 is None:
            missing.append(spec.name)
    return changed, tuple(missing)
