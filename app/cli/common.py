"""Shared CLI plumbing: domain errors become a clear message and exit code 1, never a traceback."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

import click

from app.errors import DomainError
from app.services import audit

P = ParamSpec("P")
R = TypeVar("R")


def cli_actor() -> audit.Actor:
    """Who the audit log names for a command run from the shell: ``cli:<login name>``."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (e.g. an arbitrary container uid)
        login = "unknown"
    return audit.Actor(None, f"cli:{login}")


def friendly_errors(command: Callable[P, R]) -> Callable[P, R]:
    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc

    return wrapper


def server_url(explicit: str | None) -> str:
    from flask import current_app  # noqa: PLC0415

    return (explicit or current_app.config.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000").rstrip("/")
