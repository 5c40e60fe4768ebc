"""People who use ChainLift: admins, programme managers and field enumerators."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, enum_column, utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    ENUMERATOR = "enumerator"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[Role] = mapped_column(enum_column(Role))
    # argon2id hash for Basic auth and (later) the dashboard login.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # HTTP Digest needs MD5(username:realm:password); it is what ODK Collect can use over plain http.
    digest_ha1: Mapped[str | None] = mapped_column(String(32))
    # App-user token for /key/<token>/ URLs (set up in Collect by QR code), like ODK Central's field keys.
    token: Mapped[str | None] = mapped_column(String(128), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    deactivated_at: Mapped[dt.datetime | None]
