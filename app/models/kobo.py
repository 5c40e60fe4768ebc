"""KoboToolbox: REST-service hooks that push to us, assets we pull from, and the KoBo identity of submissions.

A KoBo record becomes an ordinary submission (app/models/submission.py) whose versions hold the internal OpenRosa
XML; what KoBo actually sent is kept verbatim in ``kobo_payloads`` (see docs/kobo-integration.md). KoBo's own
identity of a logical submission (``_id``, stable across edits, and ``meta/rootUuid``) lives in ``kobo_records``.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, enum_column, utcnow
from app.models.form import Form


class KoboAuthMode(enum.StrEnum):
    TOKEN = "token"  # noqa: S105 - a mode's name, not a secret; the secret token in the hook's URL only
    BASIC = "basic"  # and HTTP Basic (KoBo's "basic_auth")
    HEADER = "header"  # and a custom header (KoBo's "custom_headers")


class KoboSource(enum.StrEnum):
    HOOK = "hook"
    SYNC = "sync"


class SyncStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


class KoboHook(Base):
    """A KoBo REST service pointed at ``/kobo/hook/<token>``; only hashes of its secrets are stored."""

    __tablename__ = "kobo_hooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    form_pk: Mapped[int] = mapped_column(ForeignKey("forms.id"), index=True)
    auth_mode: Mapped[KoboAuthMode] = mapped_column(enum_column(KoboAuthMode))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # hex SHA-256 of the URL token
    token_prefix: Mapped[str] = mapped_column(String(8))  # shown in listings to tell hooks apart
    basic_username: Mapped[str | None] = mapped_column(String(128))
    header_name: Mapped[str | None] = mapped_column(String(64))
    secret_hash: Mapped[str | None] = mapped_column(String(64))  # SHA-256 of the Basic password or header value
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # What happened to deliveries (visible through GET /api/v1/kobo/hooks):
    last_delivery_at: Mapped[dt.datetime | None]
    last_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[dt.datetime | None]
    created_count: Mapped[int] = mapped_column(default=0)
    edited_count: Mapped[int] = mapped_column(default=0)
    duplicate_count: Mapped[int] = mapped_column(default=0)
    rejected_count: Mapped[int] = mapped_column(default=0)
    failed_count: Mapped[int] = mapped_column(default=0)

    form: Mapped[Form] = relationship()


class KoboAsset(Base):
    """A KoBo project pulled by ``flask kobo sync``; the API token is read from the environment variable named."""

    __tablename__ = "kobo_assets"
    __table_args__ = (UniqueConstraint("server_url", "asset_uid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    server_url: Mapped[str] = mapped_column(String(255))  # e.g. https://kf.kobotoolbox.org
    asset_uid: Mapped[str] = mapped_column(String(64))
    token_env: Mapped[str] = mapped_column(String(128))  # name of the variable holding the token, never the token
    form_pk: Mapped[int | None] = mapped_column(ForeignKey("forms.id"), index=True)
    import_form: Mapped[bool] = mapped_column(default=True)  # publish the asset's deployed XLSForm on each sync
    name: Mapped[str | None] = mapped_column(String(255))  # the project's name in KoBo
    deployed_version_id: Mapped[str | None] = mapped_column(String(64))  # last deployed version imported
    watermark_id: Mapped[int | None] = mapped_column(BigInteger)  # highest KoBo _id stored
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_success_at: Mapped[dt.datetime | None]

    form: Mapped[Form | None] = relationship()


class KoboSyncRun(Base):
    """One run of the pull sync: progress is written with every page, so a stopped run shows how far it got."""

    __tablename__ = "kobo_sync_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("kobo_assets.id"), index=True)
    status: Mapped[SyncStatus] = mapped_column(enum_column(SyncStatus))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    watermark_from: Mapped[int | None] = mapped_column(BigInteger)
    watermark_to: Mapped[int | None] = mapped_column(BigInteger)
    requests: Mapped[int] = mapped_column(default=0)
    pages: Mapped[int] = mapped_column(default=0)
    created_count: Mapped[int] = mapped_column(default=0)
    edited_count: Mapped[int] = mapped_column(default=0)
    unchanged_count: Mapped[int] = mapped_column(default=0)
    deleted_count: Mapped[int] = mapped_column(default=0)
    error_count: Mapped[int] = mapped_column(default=0)
    file_count: Mapped[int] = mapped_column(default=0, server_default="0")  # attachments downloaded and stored
    form_imported: Mapped[str | None] = mapped_column(String(255))  # "form_id version" published by this run
    error: Mapped[str | None] = mapped_column(Text)  # why the run failed
    problems: Mapped[list[dict[str, str]]] = mapped_column(default=list)  # the first records it could not store


class KoboRecord(Base):
    """KoBo's identity of one logical submission: ``_id`` and ``meta/rootUuid`` survive edits, ``_uuid`` does not."""

    __tablename__ = "kobo_records"
    __table_args__ = (UniqueConstraint("form_pk", "kobo_id"), UniqueConstraint("form_pk", "root_uuid"))

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), unique=True)
    form_pk: Mapped[int] = mapped_column(ForeignKey("forms.id"))
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("kobo_assets.id"), index=True)
    kobo_id: Mapped[int | None] = mapped_column(BigInteger)  # absent from XML hook payloads
    root_uuid: Mapped[str | None] = mapped_column(String(255))
    current_uuid: Mapped[str] = mapped_column(String(255))  # the instanceID of the newest version stored
    submitted_by: Mapped[str | None] = mapped_column(String(150))
    submission_time: Mapped[dt.datetime | None]  # KoBo's _submission_time (creation; edits keep it)
    deleted_at: Mapped[dt.datetime | None]  # found deleted in KoBo: derived rows removed, raw data kept


class KoboPayload(Base):
    """What KoBo sent for one version, verbatim (a hook's body byte for byte; a synced record as read)."""

    __tablename__ = "kobo_payloads"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("kobo_records.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("submission_versions.id"), unique=True)
    source: Mapped[KoboSource] = mapped_column(enum_column(KoboSource))
    hook_id: Mapped[int | None] = mapped_column(ForeignKey("kobo_hooks.id"))
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("kobo_assets.id"))
    content_type: Mapped[str] = mapped_column(String(64))  # application/json or application/xml
    body: Mapped[bytes]
    sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class KoboFormVersion(Base):
    """Which of our form versions a KoBo deployed version (``__version__`` in records) was imported as."""

    __tablename__ = "kobo_form_versions"

    form_pk: Mapped[int] = mapped_column(ForeignKey("forms.id"), primary_key=True)
    kpi_version: Mapped[str] = mapped_column(String(64), primary_key=True)
    form_version_id: Mapped[int] = mapped_column(ForeignKey("form_versions.id"))
