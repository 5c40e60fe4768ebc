"""Published forms: each form id has one or more versions, each with its exact XForm bytes and media."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, enum_column, utcnow


class FormState(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Form(Base):
    __tablename__ = "forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[str] = mapped_column(String(255), unique=True)
    state: Mapped[FormState] = mapped_column(enum_column(FormState), default=FormState.OPEN)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("form_versions.id", use_alter=True, name="fk_forms_current_version_id_form_versions")
    )

    current_version: Mapped[FormVersion | None] = relationship(foreign_keys=[current_version_id], post_update=True)


class FormVersion(Base):
    __tablename__ = "form_versions"
    __table_args__ = (UniqueConstraint("form_pk", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_pk: Mapped[int] = mapped_column(ForeignKey("forms.id"), index=True)
    version: Mapped[str] = mapped_column(String(255))  # '' when the form has no version
    title: Mapped[str] = mapped_column(String(500))
    xml: Mapped[bytes]  # served byte for byte; the formList hash is its MD5
    md5: Mapped[str] = mapped_column(String(32))
    source_name: Mapped[str] = mapped_column(String(255))  # the file it was published from
    source: Mapped[bytes | None]  # the XLSForm workbook, when it came from one
    # What the XForm declares, read once at publish time:
    binary_paths: Mapped[list[str]]  # /-paths (below the root) of binary questions, incl. meta/audit
    media_names: Mapped[list[str]]  # file names behind jr:// references; listed in the manifest
    encrypted: Mapped[bool] = mapped_column(default=False)
    # chainlift:field mapping read from the XForm's binds (app/ingest/mapping.py); {} when none is declared
    mapping: Mapped[dict[str, Any]] = mapped_column(default=dict)
    published_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    form: Mapped[Form] = relationship(foreign_keys=[form_pk])
    media: Mapped[list[FormMedia]] = relationship(order_by="FormMedia.name", back_populates="form_version")


class FormMedia(Base):
    __tablename__ = "form_media"
    __table_args__ = (UniqueConstraint("form_version_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_version_id: Mapped[int] = mapped_column(ForeignKey("form_versions.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    md5: Mapped[str] = mapped_column(String(32))
    size: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(255))

    form_version: Mapped[FormVersion] = relationship(back_populates="media")


class FormAssignment(Base):
    """Restricts a form to named enumerators. A form without assignments is open to every enumerator."""

    __tablename__ = "form_assignments"

    form_pk: Mapped[int] = mapped_column(ForeignKey("forms.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
