"""Domain errors. Services raise them; each front door (OpenRosa XML, JSON API, CLI) renders them its own way."""

from __future__ import annotations


class DomainError(Exception):
    """Something the caller asked for cannot be done; ``message`` is written for the person who asked."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidError(DomainError):
    status = 400


class ForbiddenError(DomainError):
    status = 403


class NotFoundError(DomainError):
    status = 404


class ConflictError(DomainError):
    status = 409


class UnavailableError(DomainError):
    """Not now: the same request may succeed later (answered 503)."""

    status = 503
