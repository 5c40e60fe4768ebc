"""Receiving OpenRosa submissions: idempotent on instanceID, edits by deprecatedID, attachments by name.

The rules are ODK Central's (../shared/docs/openrosa.md §5.3). Attachment bytes are written to the blob store
*before* the database transaction (see ``api/openrosa/submission.py``); this module only records rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from app.db import utcnow
from app.errors import ConflictError, NotFoundError
from app.ingest.instance import Instance
from app.models import Attachment, Form, FormState, FormVersion, ReviewState, Submission, SubmissionVersion, User
from app.services import processing
from app.services.forms import check_may_use

AUDIT_PATH = "meta/audit"


@dataclass(frozen=True)
class IncomingFile:
    sha256: str
    size: int
    content_type: str


@dataclass(frozen=True)
class Received:
    submission: Submission
    version: SubmissionVersion
    stored_new: bool  # False: an exact duplicate, nothing changed (202)
    missing: tuple[str, ...]  # expected attachments still to come


@dataclass(frozen=True)
class ExpectedFile:
    name: str
    encrypted_index: int | None = None
    client_audit: bool = False


def find_form_version(session: Session, user: User, instance: Instance) -> FormVersion:
    """The form version an instance belongs to, checked for access and state, in one query on the usual path.

    The stored XForm and workbook are not loaded: the submission path needs only the declarations.
    """
    found = session.execute(
        select(Form, FormVersion)
        .join(FormVersion, FormVersion.form_pk == Form.id)
        .options(defer(FormVersion.xml), defer(FormVersion.source))
        .where(Form.form_id == instance.form_id, FormVersion.version == instance.version)
    ).first()
    if found is None:
        _raise_not_found(session, instance)
    form, version = found
    check_may_use(session, user, form)
    if form.state is not FormState.OPEN:
        raise ConflictError(f"The form '{form.form_id}' is closed and is not accepting submissions.")
    return version


def _raise_not_found(session: Session, instance: Instance) -> NoReturn:
    form = session.scalar(select(Form).where(Form.form_id == instance.form_id))
    if form is None:
        raise NotFoundError(f"There is no form with id '{instance.form_id}' on this server.")
    raise NotFoundError(
        f"The form version specified in this submission '{instance.version}' does not exist "
        f"for form '{instance.form_id}'. Download the form again and re-enter the data."
    )


def expected_files(form_version: FormVersion, instance: Instance) -> list[ExpectedFile]:
    """The attachments this instance refers to: binary answers (and the audit log), or encrypted parts."""
    if instance.encrypted is not None:
        media = instance.encrypted.media_files
        files = [ExpectedFile(name, i, name == "audit.csv.enc") for i, name in enumerate(media)]
        return [*files, ExpectedFile(instance.encrypted.xml_file, len(media))]
    found: dict[str, ExpectedFile] = {}
    for path in form_version.binary_paths:
        for value in instance.values_at(path):
            if value and value not in found:
                found[value] = ExpectedFile(value, client_audit=path == AUDIT_PATH)
    return list(found.values())


def receive(
    session: Session,
    *,
    user: User,
    instance: Instance,
    xml: bytes,
    files: Mapping[str, IncomingFile],
    device_id: str | None,
    user_agent: str | None,
) -> Received:
    """Record one POST of an instance. ``files`` maps part names to blobs already stored."""
    form_version = find_form_version(session, user, instance)
    xml_sha = hashlib.sha256(xml).hexdigest()
    expected = expected_files(form_version, instance)

    existing = _version_by_instance_id(session, form_version.form_pk, instance.instance_id)
    if existing is not None:
        _check_resubmission(existing, xml_sha)
        changed, still_missing = _attach(session, existing, expected, files)
        return Received(existing.submission, existing, changed, still_missing)

    if instance.deprecated_id is not None:
        submission, previous = _edit_target(session, form_version.form_pk, instance.deprecated_id)
    else:
        submission, previous = Submission(form_pk=form_version.form_pk, instance_id=instance.instance_id), None
        submission.submitter_id = user.id
        session.add(submission)

    envelope = instance.encrypted
    version = SubmissionVersion(
        submission=submission,
        form_pk=form_version.form_pk,
        form_version_id=form_version.id,
        instance_id=instance.instance_id,
        deprecated_id=instance.deprecated_id,
        instance_name=instance.instance_name,
        xml=xml,
        xml_sha256=xml_sha,
        submitter_id=user.id,
        device_id=device_id,
        user_agent=user_agent,
        encrypted=envelope is not None,
        encrypted_key=envelope.key if envelope else None,
        encrypted_xml_name=envelope.xml_file if envelope else None,
        encrypted_signature=envelope.signature if envelope else None,
    )
    session.add(version)
    session.flush()  # the UNIQUE (form, instanceID) constraint decides races between identical POSTs
    missing: tuple[str, ...] = ()
    if expected:
        carried = {a.name: a for a in previous.attachments} if previous is not None else {}
        _, missing = _attach(session, version, expected, files, carried, new=True)
    submission.current_version = version
    if previous is not None:
        submission.review_state = ReviewState.EDITED
        submission.updated_at = utcnow()
    if form_version.mapping and envelope is None:
        session.flush()
        processing.process(session, submission)  # a failure is recorded on the submission, never raised
    else:  # nothing to derive: say so without a round trip through the mapper
        processing.mark_not_mapped(session, submission, had_rows=previous is not None)
    return Received(submission, version, True, missing)


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


def _edit_target(session: Session, form_pk: int, deprecated_id: str) -> tuple[Submission, SubmissionVersion]:
    previous = _version_by_instance_id(session, form_pk, deprecated_id)
    if previous is None:
        raise NotFoundError(
            "You tried to update an existing submission, but we can't find that submission to update "
            f"({deprecated_id})."
        )
    submission = previous.submission
    if submission.deleted_at is not None:
        raise ConflictError("This submission has been deleted. You may not edit it.")
    if submission.current_version_id != previous.id:
        raise ConflictError(
            f"You tried to update a submission, but the copy you were editing ({deprecated_id}) is now out "
            "of date. Please get the new version that has been submitted, and make your edits again."
        )
    return submission, previous


def _attach(
    session: Session,
    version: SubmissionVersion,
    expected: list[ExpectedFile],
    files: Mapping[str, IncomingFile],
    carried: Mapping[str, Attachment] | None = None,
    *,
    new: bool = False,
) -> tuple[bool, tuple[str, ...]]:
    """Create the expected slots and fill those whose part arrived: (anything stored?, names still missing)."""
    slots: dict[str, Attachment] = {} if new else {a.name: a for a in version.attachments}
    changed = False
    missing: list[str] = []
    now = utcnow()
    for spec in expected:
        slot = slots.get(spec.name)
        if slot is None:
            slot = Attachment(
                version_id=version.id,
                name=spec.name,
                encrypted_index=spec.encrypted_index,
                client_audit=spec.client_audit,
            )
            session.add(slot)
            old = (carried or {}).get(spec.name)
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
