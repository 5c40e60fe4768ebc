"""Alembic environment: the URL comes from the same settings loader as the app; no Flask app is built."""

from __future__ import annotations

from typing import Any

from alembic import context

import app.models  # noqa: F401 - registers every table on Base.metadata
from app.config import load_settings, normalise_database_url
from app.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    explicit = config.get_main_option("sqlalchemy.url")
    return normalise_database_url(explicit) if explicit else load_settings().database_url


def _skip_empty(_context: Any, _revision: Any, directives: list[Any]) -> None:
    """No empty revision files from autogenerate."""
    if config.cmd_opts is not None and getattr(config.cmd_opts, "autogenerate", False):
        script = directives[0]
        if script.upgrade_ops.is_empty():
            directives[:] = []


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(_url())
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,  # plain ALTER on PostgreSQL, copy-and-move on SQLite
            process_revision_directives=_skip_empty,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
