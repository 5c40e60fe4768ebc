"""Settings, read from the environment by one loader shared by web, CLI, migrations and jobs."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_UPLOAD_LIMIT = 100 * 1024 * 1024  # what ODK Central's proxy allows
DEFAULT_MAX_PARTS = 1000


class SettingsError(ValueError):
    """A setting in the environment cannot be used."""


@dataclass(frozen=True)
class Settings:
    instance_path: Path
    database_url: str
    secret_key: str
    media_root: Path
    max_upload_bytes: int
    max_form_parts: int
    public_base_url: str | None
    trusted_proxies: int  # reverse proxies in front whose X-Forwarded-* headers are believed (0: none)
    jobs_url: str  # the job queue's broker: sqlite:///file (embedded default) or redis://host:port/db
    jobs_queue: str  # queue name: workers and web processes of one deployment share it

    def flask_config(self) -> dict[str, object]:
        return {
            "SECRET_KEY": self.secret_key,
            "DATABASE_URL": self.database_url,
            "MEDIA_ROOT": str(self.media_root),
            "MAX_CONTENT_LENGTH": self.max_upload_bytes,
            "MAX_FORM_PARTS": self.max_form_parts,
            "MAX_FORM_MEMORY_SIZE": 1024 * 1024,
            "PUBLIC_BASE_URL": self.public_base_url,
        }


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a whole number of bytes, got {raw!r}") from exc
    if value <= 0:
        raise SettingsError(f"{name} must be positive, got {value}")
    return value


def _count(environ: Mapping[str, str], name: str) -> int:
    raw = environ.get(name) or "0"
    if not raw.isdigit():
        raise SettingsError(f"{name} must be a whole number (0 or more), got {raw!r}")
    return int(raw)


def _secret_key(instance_path: Path, environ: Mapping[str, str]) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in instance/ (never a fixed default)."""
    if key := environ.get("SECRET_KEY"):
        return key
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key


def normalise_database_url(url: str) -> str:
    """postgresql:// means psycopg 3 (SQLAlchemy 2.1's default); say so explicitly."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    instance_path = Path(env.get("CHAINLIFT_INSTANCE_PATH") or PROJECT_ROOT / "instance").resolve()
    database_url = env.get("DATABASE_URL") or f"sqlite:///{instance_path / 'chainlift.sqlite3'}"
    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    media_root = Path(env.get("MEDIA_ROOT") or instance_path / "media").resolve()
    base_url = (env.get("PUBLIC_BASE_URL") or "").rstrip("/") or None
    if base_url and not base_url.startswith(("http://", "https://")):
        raise SettingsError(f"PUBLIC_BASE_URL must start with http:// or https://, got {base_url!r}")
    return Settings(
        instance_path=instance_path,
        database_url=normalise_database_url(database_url),
        secret_key=_secret_key(instance_path, env),
        media_root=media_root,
        max_upload_bytes=_int(env, "MAX_UPLOAD_BYTES", DEFAULT_UPLOAD_LIMIT),
        max_form_parts=_int(env, "MAX_FORM_PARTS", DEFAULT_MAX_PARTS),
        public_base_url=base_url,
        trusted_proxies=_count(env, "TRUSTED_PROXIES"),
        jobs_url=_jobs_url(env, instance_path),
        jobs_queue=env.get("JOBS_QUEUE") or "chainlift",
    )


def _jobs_url(env: Mapping[str, str], instance_path: Path) -> str:
    url = env.get("JOBS_URL") or f"sqlite:///{instance_path / 'jobs.sqlite3'}"
    if not url.startswith(("sqlite:///", "redis://", "rediss://", "unix://")):
        raise SettingsError(f"JOBS_URL must be sqlite:///PATH or redis://HOST:PORT/DB, got {url!r}")
    return url
