"""Storing KoboToolbox records (from a REST-service hook or the pull sync) as submissions, and KoBo deletions.

One rule for both doors (docs/kobo-integration.md): a record is a *version* of the logical submission KoBo
names by ``_id`` (stable across edits) or ``meta/rootUuid``. A version we already hold (same instanceID, i.e. the
same ``_uuid``) changes nothing; a new one becomes the current version, unless it is older than what we hold (an
original arriving after its edit, as KoBo's hook retries can do), which is kept as history only. What KoBo sent
is stored verbatim in ``kobo_payloads``; the version's XML is our internal representation (app/ingest/kobo.py),
so processing, review and reprocess treat it like any OpenRosa submission. Takes a Session; never commits.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import ConflictError
from app.ingest.instance import Instance, InstanceError, read_instance
from app.ingest.kobo import (
    KoboIdentity,
    KoboRecordError,
    form_shape,
    json_identity,
    read_json_record,
    record_to_xml,
    xml_identity,
)
from app.models import (
    Attachment,
    Form,
    FormState,
    FormVersion,
    KoboFormVersion,
    KoboPayload,
    KoboRecord,
    KoboSource,
    ReviewState,
    Submission,
    SubmissionVersion,
)
from app.services import processing
from app.services.submissions import IncomingFile, attach, expected_files

JSON_TYPE = "application/json"
XML_TYPE = "application/xml"


class Outcome(enum.StrEnum):
    CREATED = "created"  # a new logical submission
    EDITED = "edited"  # a new current version of one we hold
    DUPLICATE = "duplicate"  # this version is stored already: nothing changed
    STALE = "stale"  # an older version than the current one: kept as history, nothing else changed
    ATTACHED = "attached"  # this version is stored already and got files it lacked (the sync downloads them)
    RESTORED = "restored"  # a submission marked deleted is in KoBo again


@dataclass(frozen=True)
class Delivery:
    """What arrived from KoBo, and through which door."""

    body: bytes  # verbatim: a hook's request body, or a synced record as read
    content_type: str  # JSON_TYPE or XML_TYPE
    source: KoboSource
    hook_id: int | None = None
    asset_id: int | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class Stored:
    outcome: Outcome
    submission_id: int
    instance_id: str
    kobo_id: int | None
    files: int = 0  # of the files given, those stored in the version's attachment slots


def _target_version(session: Session, form: Form, identity: KoboIdentity, xml_version: str | None) -> FormVersion:
    """Our form version for a record: the one its KoBo deployment was imported as, else the form's current."""
    if identity.kpi_version:
        linked = session.get(KoboFormVersion, (form.id, identity.kpi_version))
        if linked is not None:
            version = session.get(FormVersion, linked.form_version_id)
            if version is not None:
                return version
    if xml_version is not None:
        named = session.scalar(
            select(FormVersion).where(FormVersion.form_pk == form.id, FormVersion.version == xml_version)
        )
        if named is not None:
            return named
    if form.current_version is None:
        raise ConflictError(f"The form '{form.form_id}' has no published version.")
    return form.current_version


def _find_record(session: Session, form: Form, identity: KoboIdentity) -> KoboRecord | None:
    if identity.kobo_id is not None:
        found = session.scalar(
            select(KoboRecord).where(KoboRecord.form_pk == form.id, KoboRecord.kobo_id == identity.kobo_id)
        )
        if found is not None:
            return found
    if identity.root_uuid is not None:
        return session.scalar(
            select(KoboRecord).where(KoboRecord.form_pk == form.id, KoboRecord.root_uuid == identity.root_uuid)
        )
    return None


def _version(session: Session, form: Form, instance_id: str) -> SubmissionVersion | None:
    return session.scalar(
        select(SubmissionVersion).where(
            SubmissionVersion.form_pk == form.id, SubmissionVersion.instance_id == instance_id
        )
    )


def _logical_submission(session: Session, form: Form, identity: KoboIdentity) -> Submission | None:
    """A submission we hold for this record without a KoBo link yet (sent over OpenRosa, or an XML hook)."""
    if identity.root_uuid is not None:
        found = session.scalar(
            select(Submission).where(Submission.form_pk == form.id, Submission.instance_id == identity.root_uuid)
        )
        if found is not None:
            return found
    if identity.deprecated_id is not None:
        previous = _version(session, form, identity.deprecated_id)
        if previous is not None:
            return previous.submission
    return None


def _is_older(session: Session, submission: Submission, identity: KoboIdentity) -> bool:
    """Is this (unseen) version older than the ones we hold? An original after its edit, or an edited-away one."""
    deprecated = set(
        session.scalars(select(SubmissionVersion.deprecated_id).where(SubmissionVersion.submission_id == submission.id))
    )
    return identity.instance_id in deprecated or identity.deprecated_id is None


def read_delivery(delivery: Delivery) -> tuple[KoboIdentity, dict[str, Any] | None, Instance | None]:
    """The identity of a payload, and the record (JSON) or the instance (XML) it holds; KoboRecordError if none."""
    if delivery.content_type == JSON_TYPE:
        record = read_json_record(delivery.body)
        return json_identity(record), record, None
    try:
        instance = read_instance(delivery.body)
    except InstanceError as exc:
        raise KoboRecordError(str(exc)) from exc
    return xml_identity(instance), None, instance


def store(
    session: Session,
    form: Form,
    delivery: Delivery,
    *,
    files: Mapping[str, IncomingFile] | None = None,
) -> Stored:
    """Record one KoBo payload for ``form``. Raises KoboRecordError (the payload's fault) or a DomainError."""
    if form.state is not FormState.OPEN:
        raise ConflictError(f"The form '{form.form_id}' is closed and is not accepting submissions.")
    identity, record, instance = read_delivery(delivery)
    kobo = _find_record(session, form, identity)
    existing = _version(session, form, identity.instance_id)
    submission = kobo_submission(session, kobo) if kobo is not None else None
    if submission is None:
        submission = existing.submission if existing is not None else _logical_submission(session, form, identity)
    if existing is not None and submission is not None and existing.submission_id != submission.id:
        raise ConflictError(
            f"The version {identity.instance_id} is already stored as part of another submission "
            f"({existing.submission.instance_id})."
        )
    if existing is not None:
        kobo = _link(session, form, kobo, existing.submission, identity, delivery)
        filled = _fill(session, existing, files) if files else 0
        if kobo.deleted_at is not None:
            _restore(session, kobo, existing.submission)
            return Stored(Outcome.RESTORED, existing.submission_id, identity.instance_id, identity.kobo_id, filled)
        outcome = Outcome.ATTACHED if filled else Outcome.DUPLICATE
        return Stored(outcome, existing.submission_id, identity.instance_id, identity.kobo_id, filled)

    target = _target_version(session, form, identity, instance.version if instance is not None else None)
    if record is not None:
        xml = record_to_xml(record, form_shape(target.xml), form_id=form.form_id, version=target.version)
        try:
            instance = read_instance(xml)
        except InstanceError as exc:  # e.g. nested deeper than any form: the record's fault
            raise KoboRecordError(str(exc)) from exc
    else:
        xml = delivery.body
    assert instance is not None  # noqa: S101 - read above, for either content type
    if submission is None:
        outcome = Outcome.CREATED
        submission = Submission(form_pk=form.id, instance_id=identity.root_uuid or identity.instance_id)
        session.add(submission)
        session.flush()
    else:
        outcome = Outcome.STALE if _is_older(session, submission, identity) else Outcome.EDITED
    kobo = _link(session, form, kobo, submission, identity, delivery)
    version, filled = _add_version(session, submission, target, identity, instance, xml, delivery, files or {})
    session.add(
        KoboPayload(
            record_id=kobo.id,
            version_id=version.id,
            source=delivery.source,
            hook_id=delivery.hook_id,
            asset_id=delivery.asset_id,
            content_type=delivery.content_type,
            body=delivery.body,
            sha256=hashlib.sha256(delivery.body).hexdigest(),
            received_at=version.received_at,
        )
    )
    if outcome is not Outcome.STALE:
        previous = submission.current_version
        submission.current_version = version
        kobo.current_uuid = identity.instance_id
        if outcome is Outcome.EDITED:
            submission.review_state = ReviewState.EDITED
            submission.updated_at = version.received_at
        kobo.deleted_at = submission.deleted_at = None
        session.flush()
        _derive(session, submission, target, had_rows=previous is not None)
    session.flush()
    return Stored(outcome, submission.id, identity.instance_id, identity.kobo_id, filled)


def _add_version(  # noqa: PLR0917 - the parts of one version
    session: Session,
    submission: Submission,
    target: FormVersion,
    identity: KoboIdentity,
    instance: Instance,
    xml: bytes,
    delivery: Delivery,
    files: Mapping[str, IncomingFile],
) -> tuple[SubmissionVersion, int]:
    """The new version, and how many of ``files`` filled its slots."""
    version = SubmissionVersion(
        submission_id=submission.id,
        form_pk=submission.form_pk,
        form_version_id=target.id,
        instance_id=identity.instance_id,
        deprecated_id=identity.deprecated_id,
        instance_name=(instance.instance_name or "")[:500] or None,
        xml=xml,
        xml_sha256=hashlib.sha256(xml).hexdigest(),
        device_id=identity.device_id,
        user_agent=(delivery.user_agent or "")[:500] or None,
        received_at=utcnow(),
        encrypted=instance.encrypted is not None,
    )
    session.add(version)
    session.flush()
    previous = submission.current_version
    carried = previous.attachments if previous is not None else []
    return version, _take_files(session, version, target, instance, files, [], carried=carried)


def _fill(session: Session, version: SubmissionVersion, files: Mapping[str, IncomingFile]) -> int:
    """Files for the empty slots of a version we hold (as a repeated OpenRosa POST merges them): how many?"""
    target = session.get(FormVersion, version.form_version_id)
    assert target is not None  # noqa: S101 - a foreign key
    try:
        instance = read_instance(version.xml)
    except InstanceError:  # stored before, so readable; nothing to fill if not
        return 0
    filled = _take_files(session, version, target, instance, files, list(version.attachments))
    session.flush()
    return filled


def _take_files(  # noqa: PLR0917 - a version and what fills its slots
    session: Session,
    version: SubmissionVersion,
    target: FormVersion,
    instance: Instance,
    files: Mapping[str, IncomingFile],
    existing: list[Attachment],
    *,
    carried: list[Attachment] | None = None,
) -> int:
    """Open the slots the instance refers to and put ``files`` in them: how many slots took a file."""
    expected = expected_files(list(target.binary_paths), instance)
    before = {slot.name: slot.sha256 for slot in existing}
    attach(session, version.id, expected, files, existing, carried=carried)
    return sum(1 for spec in expected if spec.name in files and before.get(spec.name) != files[spec.name].sha256)


def kobo_submission(session: Session, kobo: KoboRecord) -> Submission:
    submission = session.get(Submission, kobo.submission_id)
    assert submission is not None  # noqa: S101 - a foreign key
    return submission


def _link(  # noqa: PLR0917 - what a payload tells about its submission
    session: Session,
    form: Form,
    kobo: KoboRecord | None,
    submission: Submission,
    identity: KoboIdentity,
    delivery: Delivery,
) -> KoboRecord:
    """The KoBo identity row of ``submission``, created or completed with what this payload tells."""
    if kobo is None:
        kobo = session.scalar(select(KoboRecord).where(KoboRecord.submission_id == submission.id))
    if kobo is None:
        current = (
            session.get(SubmissionVersion, submission.current_version_id) if submission.current_version_id else None
        )
        kobo = KoboRecord(
            submission_id=submission.id,
            form_pk=form.id,
            current_uuid=current.instance_id if current is not None else identity.instance_id,
        )
        session.add(kobo)
    if kobo.kobo_id is None and identity.kobo_id is not None:
        kobo.kobo_id = identity.kobo_id
    if kobo.root_uuid is None and identity.root_uuid is not None:
        kobo.root_uuid = identity.root_uuid
    if kobo.asset_id is None and delivery.asset_id is not None:
        kobo.asset_id = delivery.asset_id
    kobo.submission_time = identity.submission_time or kobo.submission_time
    kobo.submitted_by = identity.submitted_by or kobo.submitted_by
    session.flush()
    return kobo


def _derive(session: Session, submission: Submission, target: FormVersion, *, had_rows: bool) -> None:
    version = submission.current_version
    if target.mapping and version is not None and not version.encrypted:
        processing.process(session, submission)  # a failure is recorded on the submission, never raised
    else:
        processing.mark_not_mapped(session, submission, had_rows=had_rows)


def _restore(session: Session, kobo: KoboRecord, submission: Submission) -> None:
    kobo.deleted_at = submission.deleted_at = None
    submission.updated_at = utcnow()
    version = submission.current_version
    if version is not None:
        target = session.get(FormVersion, version.form_version_id)
        assert target is not None  # noqa: S101 - a foreign key
        _derive(session, submission, target, had_rows=False)


def mark_deleted(session: Session, kobo: KoboRecord) -> None:
    """KoBo no longer has this record: the submission is marked deleted and its derived rows go; raw data stay."""
    if kobo.deleted_at is not None:
        return
    submission = kobo_submission(session, kobo)
    now = utcnow()
    kobo.deleted_at = submission.deleted_at = now
    submission.updated_at = now
    processing.forget_rows(session, submission)
