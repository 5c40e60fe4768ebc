"""Plain SQLAlchemy 2 sessions: one per app context, transactions opened at the boundary."""

from __future__ import annotations

import datetime as dt
import enum
import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from decimal import Decimal
from typing import Any, cast

from flask import Flask, current_app, g
from sqlalchemy import (
    JSON,
    Connection,
    DateTime,
    Dialect,
    Engine,
    Enum,
    LargeBinary,
    MetaData,
    Numeric,
    TypeDecorator,
    create_engine,
    event,
    make_url,
)
from sqlalchemy.dialects.postgresql import BYTEA, JSONB
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLITE_BUSY_TIMEOUT_MS = 30_000
SINGLE_STATEMENT = "single statement"  # a ``sqlite_begin`` mode: no BEGIN at all (see ``lookup``)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An aware timestamp, stored in UTC and read back as UTC on every database.

    PostgreSQL's timestamptz does this itself; SQLite has no time zones and would keep the wall time of
    ``09:02+03:00`` and drop its offset. Naive datetimes are refused: they would be ambiguous.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:  # noqa: ARG002
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give a time zone")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:  # noqa: ARG002
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSON().with_variant(JSONB(), "postgresql"),
        list[str]: JSON().with_variant(JSONB(), "postgresql"),
        list[dict[str, str]]: JSON().with_variant(JSONB(), "postgresql"),
        bytes: LargeBinary().with_variant(BYTEA(), "postgresql"),
        Decimal: Numeric(14, 2),  # money, in the chain's local currency
    }


def enum_column(enum_class: type[enum.StrEnum], length: int = 16) -> Enum:
    """A portable enum column (VARCHAR + CHECK) that stores the members' values, not their names."""
    return Enum(
        enum_class,
        native_enum=False,
        create_constraint=True,
        length=length,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """Durable, concurrent SQLite: WAL with a full fsync per commit, foreign keys, and real BEGINs.

    pysqlite's own transaction handling is switched off so that SQLAlchemy emits BEGIN itself; a writing
    transaction asks for BEGIN IMMEDIATE, so concurrent writers queue on the busy timeout instead of
    failing when a read lock cannot be upgraded. A lookup (one SELECT) runs without BEGIN: a single statement
    is its own snapshot. BEGIN goes straight to the driver: it runs on every request.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode == SINGLE_STATEMENT:
            return
        statement = f"BEGIN {mode}"
        try:
            connection.connection.driver_connection.execute(statement)
        except sqlite3.Error as exc:  # raised outside SQLAlchemy's wrapping: wrap it as exec_driver_sql would
            raise DBAPIError.instance(statement, None, exc, sqlite3.Error) from exc


def sqlite_busy_timeout(url: str) -> float:
    """Seconds a SQLite writer waits for the lock: the URL's ``?timeout=`` if given, else 30."""
    raw = make_url(url).query.get("timeout")
    return float(raw if isinstance(raw, str) else raw[0]) if raw else SQLITE_BUSY_TIMEOUT_MS / 1000


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        timeout = sqlite_busy_timeout(url)
        engine = create_engine(url, connect_args={"timeout": timeout})
        _configure_sqlite(engine, int(timeout * 1000))
        return engine
    return create_engine(url, pool_pre_ping=True)


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        app.extensions["sqlite_writers"] = WriterQueue(str(engine.url.database), sqlite_busy_timeout(str(engine.url)))
    app.extensions["sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def engine_of(app: Flask) -> Engine:
    return cast(Engine, app.extensions["sessionmaker"].kw["bind"])


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    try:
        if session is not None:
            session.close()
    finally:
        _release_context_connection()


def _context_connection() -> Connection:
    """The app context's own pooled connection, shared by its lookups and ``write()`` transactions: one pool
    checkout per request instead of one per statement group. Returned to the pool at teardown, when the request
    opens an ORM session (which takes its own), or at once after a failure (see ``_release_context_connection``).
    ``lookup()`` and ``write()`` set their SQLite BEGIN mode on it, in place, each time."""
    connection: Connection | None = g.get("db_connection")
    if connection is None or connection.closed:
        connection = g.db_connection = engine_of(current_app).connect()
    elif connection.in_transaction():
        raise RuntimeError("the app context's connection is still in a transaction: lookups and writes do not nest")
    return connection


def _release_context_connection() -> None:
    """Back to the pool, whose reset sends a real ROLLBACK. After a failed COMMIT, SQLAlchemy's own rollback
    sends none, though SQLite may still hold the transaction (and its write lock): never reuse it then."""
    connection: Connection | None = g.pop("db_connection", None)
    if connection is not None:
        connection.close()


def get_session() -> Session:
    if "db_session" not in g:
        connection: Connection | None = g.get("db_connection")
        if connection is not None and not connection.in_transaction():
            _release_context_connection()  # a lookup's idle connection: the session checks out its own
        g.db_session = current_app.extensions["sessionmaker"]()
    return cast(Session, g.db_session)


class WriterQueue:
    """Queues SQLite writers of every process and thread, without SQLite's busy polling.

    SQLite's own busy handler polls with sleeps of up to 100 ms, so writers that collide under load wait far
    longer than the write takes. Threads of a process queue on a lock that wakes the next one as soon as the
    previous commits; the one thread of each process at the head of its queue then takes a lock file (flock)
    shared by the processes. Both waits are bounded by the busy timeout, so that a lock held elsewhere (a stuck
    writer, a long migration) fails each request after that time, as SQLite would, instead of stacking them.
    """

    def __init__(self, database_path: str, timeout: float = SQLITE_BUSY_TIMEOUT_MS / 1000) -> None:
        self.path = f"{database_path}.writers"
        self.timeout = timeout
        self._pid, self._threads = os.getpid(), threading.Lock()
        self._fd: int | None = None

    def _queue(self) -> threading.Lock:
        if self._pid != os.getpid():  # a forked child: its own queue and descriptor (flock is per descriptor)
            self._pid, self._threads, self._fd = os.getpid(), threading.Lock(), None
        return self._threads

    def _file(self) -> int:
        if self._fd is None:  # one descriptor per process, used by one thread at a time (under the queue)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        return self._fd

    @contextmanager
    def turn(self) -> Iterator[None]:
        deadline = time.monotonic() + self.timeout
        queue = self._queue()
        if not queue.acquire(timeout=self.timeout):
            raise _locked()
        try:
            fd = self._file()
            pause = 0.0001
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise _locked() from None
                    time.sleep(pause)  # only this process's head of queue polls, briefly
                    pause = min(pause * 2, 0.001)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            queue.release()


def _locked() -> OperationalError:
    return OperationalError("waiting for the SQLite write lock", None, sqlite3.OperationalError("database is locked"))


@contextmanager
def lookup() -> Iterator[Connection]:
    """A connection for one reading statement, with no transaction of its own on SQLite.

    A single SELECT sees one state of the database by itself, so the BEGIN and COMMIT a transaction would add
    buy nothing, nor would an ORM session; every OpenRosa request from an app user runs one such lookup (who is
    calling) before its real work. On PostgreSQL this is a plain transaction, rolled back. Run one Core
    statement in it, never a write.
    """
    connection = _context_connection()
    try:
        yield connection.execution_options(sqlite_begin=SINGLE_STATEMENT)
    except BaseException:
        _release_context_connection()
        raise
    connection.rollback()  # ends the read; nothing to undo


@contextmanager
def transaction(*, write: bool = False, snapshot: bool = False) -> Iterator[Session]:
    """Commit on success, roll back on any exception. ``write=True`` takes SQLite's write lock up front.

    ``snapshot=True`` makes every read of the transaction see one state of the database: REPEATABLE READ on
    PostgreSQL (SQLite's WAL readers have that already once the first read has begun).
    """
    session = get_session()
    queue: WriterQueue | None = current_app.extensions.get("sqlite_writers") if write else None
    with queue.turn() if queue is not None else nullcontext(), session.begin():
        if write:
            session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        elif snapshot and session.get_bind().dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        yield session


class Work:
    """A write transaction's two handles: its Core connection, and an ORM session on that same transaction, made
    only when a step needs the unit of work (an edit, attachments, mapping).

    Most OpenRosa POSTs need no session at all: a lookup and three writes, run as Core statements. Building and
    tearing down a session costs more than those statements take, so ``write()`` leaves it out until asked.
    """

    def __init__(self, connection: Connection, make_session: Callable[[], Session]) -> None:
        self.connection = connection
        self._make_session = make_session
        self._session: Session | None = None

    @classmethod
    def joining(cls, session: Session) -> Work:
        """The work of a transaction already run by ``session`` (a caller that holds one, e.g. the demo loader)."""
        work = cls(session.connection(), lambda: session)
        work._session = session
        return work

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = self._make_session()
        return self._session

    @property
    def has_session(self) -> bool:
        return self._session is not None


@contextmanager
def write() -> Iterator[Work]:
    """One write transaction, as ``transaction(write=True)``, with the session made only on demand.

    The session, when made, takes full control of the connection's transaction: its commit commits it (and runs
    the session's after-commit hooks, e.g. the indicator refresh), its rollback rolls it back.
    """
    queue: WriterQueue | None = current_app.extensions.get("sqlite_writers")
    sessions = current_app.extensions["sessionmaker"]
    with queue.turn() if queue is not None else nullcontext():
        connection = _context_connection()
        connection.execution_options(sqlite_begin="IMMEDIATE")
        work = Work(connection, lambda: cast(Session, sessions(bind=connection, join_transaction_mode="control_fully")))
        failed = False
        try:
            connection.begin()
            yield work
            if work.has_session:
                work.session.commit()
            else:
                connection.commit()
        except BaseException:
            failed = True
            if work.has_session:
                work.session.rollback()
            else:
                connection.rollback()
            raise
        finally:
            try:
                if work.has_session:
                    work.session.close()
            finally:
                if failed:
                    _release_context_connection()
