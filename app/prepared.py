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
from collections.abc import Callable, Mapping
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
    positions: tuple[str, ...] | None  # the parameters' order for positional paramstyles (qmark, format)
    binds: tuple[tuple[str, Processor], ...]
    results: tuple[Processor, ...]  # one per returned column; empty: the statement returns no rows


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
        values = {name: params[name] if process is None else process(params[name]) for name, process in plan.binds}
        args: Any = values if plan.positions is None else tuple(values[name] for name in plan.positions)
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
        if row is None:
            return None
        pairs = zip(plan.results, row, strict=True)
        return tuple(value if process is None else process(value) for process, value in pairs)

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
    binds = tuple(
        (name, bind.type.dialect_impl(dialect).bind_processor(dialect)) for name, bind in compiled.binds.items()
    )
    returned = getattr(statement, "exported_columns", ())
    results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None) for column in returned)
    positions = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup is not None else None
    return _Plan(compiled.string, positions, binds, results)


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
