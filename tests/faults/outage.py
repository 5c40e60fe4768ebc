"""Making the test's database unavailable for a while, for real, without touching anything else on the machine.

PostgreSQL: the session's own test database refuses connections (``ALLOW_CONNECTIONS false``) and its sessions
are terminated; the server and every other database stay up. SQLite: another connection holds the write lock
for longer than the server's busy timeout, as a long migration or a stuck writer would.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql
from sqlalchemy import make_url

TERMINATE = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"


@contextmanager
def postgres_down(database_url: str, admin_url: str) -> Iterator[None]:
    """``database_url``'s database refuses every connection until the block ends; ``admin_url`` is another one."""
    name = make_url(database_url).database
    if not name or not name.startswith("chainlift_test_"):
        raise ValueError(f"refusing to take down {name!r}: not a test database")
    admin = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    allow = sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(allow.format(sql.Identifier(name), sql.SQL("false")))
        try:
            conn.execute(TERMINATE, [name])
            yield
        finally:
            conn.execute(allow.format(sql.Identifier(name), sql.SQL("true")))


@contextmanager
def sqlite_locked(database_url: str) -> Iterator[None]:
    """Another connection holds the database's write lock until the block ends (readers still read, as in WAL)."""
    path = make_url(database_url).database
    if not path:
        raise ValueError(f"not a SQLite file: {database_url}")
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN EXCLUSIVE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()
