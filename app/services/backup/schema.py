"""The database side: reflected tables, their insert order, id sequences and alembic migrations on one connection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, ForeignKeyConstraint, Integer, MetaData, Table, func, select, text
from sqlalchemy.schema import sort_tables_and_constraints as _sort_tables

from app.config import PROJECT_ROOT
from app.db import Base

ALEMBIC_TABLE = "alembic_version"
LAST_VALUE = text(
    "SELECT last_value FROM pg_sequences WHERE to_regclass(format('%I.%I', schemaname, sequencename)) = to_regclass(:s)"
)


def reflect(connection: Connection) -> list[Table]:
    """Every table of the database but alembic's and SQLite's own, by name."""
    metadata = MetaData()
    metadata.reflect(connection)
    tables = [t for t in metadata.tables.values() if t.name != ALEMBIC_TABLE and not t.name.startswith("sqlite_")]
    return sorted(tables, key=lambda t: t.name)


def insert_order(tables: list[Table]) -> tuple[list[Table], set[tuple[str, str]]]:
    """Parents before children, and the (table, column) pairs that close a cycle: inserted NULL, set afterwards.

    Of the foreign keys on a cycle, the nullable ones are broken (their columns deferred); the NOT NULL ones order
    the tables.
    """
    cyclic = [fk for table, fks in _sort(tables) if table is None for fk in fks]
    breakable = {fk for fk in cyclic if isinstance(fk, ForeignKeyConstraint) and all(c.nullable for c in fk.columns)}

    def decide(fk: ForeignKeyConstraint) -> bool | None:
        return True if fk in breakable else (False if fk in cyclic else None)

    ordered: list[Table] = []
    deferred: set[tuple[str, str]] = set()
    for table, fks in _sort(tables, decide):
        if table is not None:
            ordered.append(table)
        else:
            deferred.update(
                (fk.table.name, c.name) for fk in fks if isinstance(fk, ForeignKeyConstraint) for c in fk.columns
            )
    return ordered, deferred


def _sort(tables: list[Table], decide: Callable[[ForeignKeyConstraint], bool | None] | None = None) -> list[Any]:
    return cast(list[Any], _sort_tables(tables, filter_fn=decide))  # type: ignore[no-untyped-call]


def integer_key(table: Table) -> str | None:
    keys = list(table.primary_key.columns)
    return keys[0].name if len(keys) == 1 and isinstance(keys[0].type, Integer) else None


def revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None  # noqa: S101 - the project always has migrations
    return head


def known_revision(rev: str) -> bool:
    return rev in {script.revision for script in ScriptDirectory.from_config(_config()).walk_revisions()}


def migrate(connection: Connection, target: str) -> None:
    """Upgrade the schema to ``target`` inside the connection's open transaction (no commit)."""
    config = _config()
    script = ScriptDirectory.from_config(config)

    def upgrade(current: Any, _context: Any) -> Any:
        return script._upgrade_revs(target, current)

    with EnvironmentContext(config, script, fn=upgrade, destination_rev=target) as env:
        env.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        env.run_migrations()


def next_id(connection: Connection, table: Table) -> int | None:
    """The id the table's sequence would hand out next: above every id ever used, not only the largest kept."""
    key = integer_key(table)
    if key is None:
        return None
    used = connection.scalar(select(func.max(table.c[key]))) or 0
    counter = 0
    if connection.dialect.name == "postgresql":
        sequence = connection.scalar(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": key})
        if sequence is not None:
            counter = int(connection.scalar(LAST_VALUE, {"s": sequence}) or 0)  # NULL: never used
    elif _has_sqlite_sequence(connection):
        seq = connection.scalar(text("SELECT seq FROM sqlite_sequence WHERE name = :t"), {"t": table.name})
        counter = int(seq or 0)
    return max(int(used), counter) + 1


def set_next_id(connection: Connection, table: Table, value: int) -> None:
    key = integer_key(table)
    if key is None:
        return
    if connection.dialect.name == "postgresql":
        sequence = connection.scalar(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": key})
        if sequence is not None:
            connection.execute(
                text("SELECT setval(:s, :v, :called)"), {"s": sequence, "v": max(value - 1, 1), "called": value > 1}
            )
    elif _is_autoincrement(connection, table.name):
        connection.execute(text("DELETE FROM sqlite_sequence WHERE name = :t"), {"t": table.name})
        connection.execute(
            text("INSERT INTO sqlite_sequence (name, seq) VALUES (:t, :v)"), {"t": table.name, "v": value - 1}
        )


def drop_everything(connection: Connection) -> list[str]:
    """Drop every table of the database (alembic's too), children first; return their names."""
    tables = reflect(connection)
    ordered, _ = insert_order(tables)
    postgres = connection.dialect.name == "postgresql"
    for table in reversed(ordered):
        connection.execute(text(f'DROP TABLE IF EXISTS "{table.name}"' + (" CASCADE" if postgres else "")))
    connection.execute(text(f"DROP TABLE IF EXISTS {ALEMBIC_TABLE}"))
    if not postgres and _has_sqlite_sequence(connection):
        connection.execute(text("DELETE FROM sqlite_sequence"))
    return [t.name for t in ordered]


def _has_sqlite_sequence(connection: Connection) -> bool:
    return connection.dialect.name == "sqlite" and bool(
        connection.scalar(text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'"))
    )


def _is_autoincrement(connection: Connection, table: str) -> bool:
    sql = connection.scalar(text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"), {"t": table})
    return "AUTOINCREMENT" in (sql or "").upper()


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return config
