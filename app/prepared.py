"""Statements compiled once per dialect and run straight on the driver's cursor, for the submission path.

Every OpenRosa POST runs the same five statements (who is calling, which form version, two inserts and an
update). Through ``Connection.execute`` each of them costs about three times what SQLite takes to run it:
the compiled-cache lookup, the execution context, events and the result object. A ``Prepared`` statement keeps
what SQLAlchemy works out once (the SQL text for the dialect, the parameter order, the types' bind and result
processors) and then hands the driver the text and the parameters, as SQLAlchemy's own "working with the DBAPI
cursor directly" documents. Everything else stays SQLAlchemy's: the connection, its pool and its transaction
(begun by SQLAlchemy, with the events that configure it), and errors, which are raised as SQLAlchemy's
exception classes (``IntegrityError``, ``OperationalError``, …) so that callers cannot tell the difference.

Only statements whose compiled form is fixed qualify: every value a named ``bindparam``, no Python-side column
defaults left for SQLAlchemy to fill in (give every column of an INSERT explicitly), no expanding IN.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Plan:
    sql: str
    binds: tuple[tuple[str, Processor], ...]  # in the driver's order for positional paramstyles (qmark, format)
    positional: bool
    results: tuple[Processor, ...]  # one per returned column; empty: the statement returns no rows

    def arguments(self, params: Mapping[str, Any]) -> Any:
        values = [params[name] if process is None else process(params[name]) for name, process in self.binds]
        return tuple(values) if self.positional else dict(zip((name for name, _ in self.binds), values, strict=True))

    def row(self, row: Sequence[Any]) -> tuple[Any, ...]:
        pairs = zip(self.results, row, strict=True)
        return tuple(value if process is None else process(value) for process, value in pairs)


class Prepared:
    """One Core statement, run on the connection's DBAPI cursor: ``first`` returns the first row as a tuple,
    ``execute`` runs a statement that returns nothing."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._plans: dict[tuple[str, str, str], _Plan] = {}  # by driver: the paramstyle is the driver's
        self._lock = threading.Lock()

    def first(self, connection: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        dialect = connection.dialect
        plan = self._plans.get((dialect.name, dialect.driver, dialect.paramstyle)) or self._compile(dialect)
        args = plan.arguments(params)
        if not connection.in_transaction():
            connection.begin()  # SQLAlchemy's BEGIN, with its events (SQLite's mode); a no-op for most drivers
        pooled = connection.connection
        cursor = pooled.cursor()
        try:
            cursor.execute(plan.sql, args)
            row = cursor.fetchone() if plan.results else None
        except dialect.loaded_dbapi.Error as exc:
            raise _wrapped(connection, plan.sql, args, exc, cursor) from exc
        finally:
            cursor.close()
        return None if row is None else plan.row(row)

    def execute(self, connection: Connection, params: Mapping[str, Any]) -> None:
        self.first(connection, params)

    def _compile(self, dialect: Dialect) -> _Plan:
        with self._lock:
            key = (dialect.name, dialect.driver, dialect.paramstyle)
            plan = self._plans.get(key)
            if plan is None:
                plan = self._plans[key] = _plan(self.statement, dialect)
            return plan


def _plan(statement: ClauseElement, dialect: Dialect) -> _Plan:
    compiled = statement.compile(dialect=dialect)
    if not isinstance(compiled, SQLCompiler):
        raise TypeError(f"not a SQL statement: {statement!r}")
    if (
        compiled.insert_prefetch
        or compiled.update_prefetch
        or compiled.literal_execute_params
        or compiled.post_compile_params
    ):
        raise ValueError(f"Prepared needs SQL fixed at compile time, a named bindparam per value: {compiled.string}")
    if not all(bind.required for bind in compiled.binds.values()):
        raise ValueError(f"Prepared takes values only through named bindparams: {compiled.string}")
    processors = {
        name: bind.type.dialect_impl(dialect).bind_processor(dialect) for name, bind in compiled.binds.items()
    }
    positional = compiled.positional and compiled.positiontup is not None
    order = compiled.positiontup if positional and compiled.positiontup is not None else list(processors)
    returned = getattr(statement, "exported_columns", ())
    results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None) for column in returned)
    return _Plan(compiled.string, tuple((name, processors[name]) for name in order), positional, results)


def _wrapped(connection: Connection, sql: str, args: Any, exc: Any, cursor: Any) -> StatementError:
    """The driver's error as SQLAlchemy raises it; a lost server connection is invalidated, as SQLAlchemy does."""
    dialect = connection.dialect
    lost = dialect.is_disconnect(exc, connection.connection.dbapi_connection, cursor)
    if lost:
        connection.invalidate(exc)
    error: StatementError = DBAPIError.instance(
        sql,
        args,
        exc,
        dialect.loaded_dbapi.Error,
        hide_parameters=True,
        connection_invalidated=lost,
        dialect=dialect,
    )
    return error
