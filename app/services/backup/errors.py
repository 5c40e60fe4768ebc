"""The one error a backup or restore reports: a sentence for the operator, never a traceback."""

from __future__ import annotations

from app.errors import DomainError


class BackupError(DomainError):
    """The archive, the database or the media store cannot be backed up or restored as asked."""
