"""Raw submissions, stored as received: the source of truth that every derived row is rebuilt from.

A *submission* is the logical record (ODK Central's model): it keeps the instanceID it was first received
with. Each edit (an instance carrying ``meta/deprecatedID``) adds a *version*; the submission points at its
current one. Attachments belong to a version; ``sha256`` is NULL while an expected file has not arrived yet.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, enum_column, utcnow
from app.vocab import ProcessingStatus


class ReviewState(enum.StrEnum):
    HAS_ISSUES = "hasIssues"
    EDITED = "edited"
    REJECTED = "rejected"
    APPROVED = "approved"


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("form_pk", "instance_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_pk: Mapped[int] = mapped_column(ForeignKey("forms.id"))
    instance_id: Mapped[str] = mapped_column(String(255))
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("submission_versions.id", use_alter=True, name="fk_submissions_current_version_id")
    )
    submitter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    review_state: Mapped[ReviewState | None] = mapped_column(enum_column(ReviewState))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime | None]
    deleted_at: Mapped[dt.datetime | None]
    # What the mapping made of the current version (see app/services/processing.py).
    processing_status: Mapped[ProcessingStatus | None] = mapped_column(enum_column(ProcessingStatus), index=True)
    processing_errors: Mapped[list[dict[str, str]]] = mapped_column(default=list)
    processed_at: Mapped[dt.datetime | None]
    derived_hash: Mapped[str | None] = mapped_column(String(64))  # of the rows derived: reprocess skips if equal
    firm_id: Mapped[int | None] = mapped_column(ForeignKey("firms.id"), index=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("survey_rounds.id"), index=True)

    current_version: Mapped[SubmissionVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )


class SubmissionVersion(Base):
    __tablename__ = "submission_versions"
    # instanceIDs are unique per form across every version, as in ODK Central.
    __table_args__ = (UniqueConstraint("form_pk", "instance_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    form_pk: Mapped[int] = mapped_column(ForeignKey("forms.id"))
    form_version_id: Mapped[int] = mapped_column(ForeignKey("form_versions.id"), index=True)
    instance_id: Mapped[str] = mapped_column(String(255))
    deprecated_id: Mapped[str | None] = mapped_column(String(255))
    instance_name: Mapped[str | None] = mapped_column(String(500))
    xml: Mapped[bytes]  # byte for byte as received
    xml_sha256: Mapped[str] = mapped_column(String(64))
    submitter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    device_id: Mapped[str | None] = mapped_column(String(255))
    user_agent: Mapped[str | None] = mapped_column(String(500))
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Encrypted envelopes (ODK encryption): kept as received; the server holds no private key.
    encrypted: Mapped[bool] = mapped_column(default=False)
    encrypted_key: Mapped[str | None] = mapped_column(Text)
    encrypted_xml_name: Mapped[str | None] = mapped_column(String(255))
    encrypted_signature: Mapped[str | None] = mapped_column(Text)

    submission: Mapped[Submission] = relationship(foreign_keys=[submission_id])
    attachments: Mapped[list[Attachment]] = relationship(order_by="Attachment.name", back_populates="version")


class Attachment(Base):
    __tablename__ = "attachments"
    __table_args__ = (UniqueConstraint("version_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("submission_versions.id"))
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str | None] = mapped_column(String(64))  # NULL: expected, not received yet
    size: Mapped[int | None]
    content_type: Mapped[str | None] = mapped_column(String(255))
    encrypted_index: Mapped[int | None]  # order of an encrypted part: media 0..n-1, the XML n
    client_audit: Mapped[bool] = mapped_column(default=False)
    received_at: Mapped[dt.datetime | None]

    version: Mapped[SubmissionVersion] = relationship(back_populates="attachments")
