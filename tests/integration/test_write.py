"""``db.write``: one write transaction on a Core connection, with an ORM session made only when asked for."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Table, event, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import engine_of, lookup, write
from app.models import FormAssignment, User
from app.services import users
from tests.helpers import Factory, submit

_users = cast(Table, User.__table__)
_assigned = cast(Table, FormAssignment.__table__)


def _active(app: Flask, username: str) -> bool:
    with engine_of(app).connect() as connection:
        active: bool = connection.execute(select(_users.c.active).where(_users.c.username == username)).scalar_one()
    return active


def test_core_only_work_commits_without_making_a_session(app: Flask, factory: Factory) -> None:
    user = factory.user()
    with app.app_context():
        with write() as work:
            work.connection.execute(update(_users).where(_users.c.username == user.username).values(active=False))
            assert not work.has_session
        assert not _active(app, user.username)


def _deactivate_then_fail(core: str, orm: str | None = None) -> None:
    with write() as work:
        work.connection.execute(update(_users).where(_users.c.username == core).values(active=False))
        if orm is not None:
            work.session.scalars(select(User).where(User.username == orm)).one().active = False
            work.session.flush()
        raise RuntimeError("refused half-way")


def test_a_failure_rolls_back_the_core_writes(app: Flask, factory: Factory) -> None:
    user = factory.user()
    with app.app_context(), pytest.raises(RuntimeError, match="half-way"):
        _deactivate_then_fail(user.username)
    assert _active(app, user.username)


def test_the_session_shares_the_transaction_and_its_commit_hooks_run_after_the_commit(
    app: Flask, factory: Factory
) -> None:
    """Core writes and ORM changes commit together; the session's after-commit hooks (which request indicator
    refreshes) run once the data is committed, as they do for ``transaction()``."""
    first, second = factory.user("enum1"), factory.user("enum2")
    seen_by_hook: list[bool] = []
    sessions = app.extensions["sessionmaker"]

    def after_commit(_session: Session) -> None:
        seen_by_hook.append(_active(app, first.username))  # another connection: sees only committed data

    event.listen(sessions, "after_commit", after_commit)
    try:
        with app.app_context(), write() as work:
            work.connection.execute(update(_users).where(_users.c.username == first.username).values(active=False))
            orm_user = work.session.scalars(select(User).where(User.username == second.username)).one()
            assert orm_user.active is True
            orm_user.active = False
            assert work.session.scalar(select(User.active).where(User.username == first.username)) is False
    finally:
        event.remove(sessions, "after_commit", after_commit)
    assert seen_by_hook == [False]
    assert not _active(app, first.username) and not _active(app, second.username)


def test_a_failure_after_the_session_was_made_rolls_back_both(app: Flask, factory: Factory) -> None:
    first, second = factory.user("enum1"), factory.user("enum2")
    with app.app_context(), pytest.raises(RuntimeError, match="half-way"):
        _deactivate_then_fail(first.username, second.username)
    assert _active(app, first.username) and _active(app, second.username)


def test_a_submission_post_checks_out_one_pooled_connection(client: FlaskClient, factory: Factory, odk: Path) -> None:
    """The app-user lookup and the write transaction share the request's connection: one pool checkout."""
    enumerator = factory.user()
    factory.publish(odk / "forms/simple.xml")
    xml = (odk / "instances/simple/one.xml").read_bytes()
    engine = engine_of(client.application)
    checkouts: list[int] = []

    def count(*_: object) -> None:
        checkouts.append(1)

    event.listen(engine, "checkout", count)
    try:
        response = submit(client, enumerator.prefix, xml)
    finally:
        event.remove(engine, "checkout", count)
    assert response.status_code == 201, response.data
    assert len(checkouts) == 1


def _deactivate_then_fail_at_commit(connection: Connection, username: str, user_id: int) -> None:
    """A write whose COMMIT fails: a constraint checked only at commit (SQLite: a deferred foreign key;
    PostgreSQL: a deferrable unique constraint on a temporary table of this connection)."""
    connection.execute(update(_users).where(_users.c.username == username).values(active=False))
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
        connection.execute(insert(_assigned).values(form_pk=999_999, user_id=user_id))
    else:
        connection.exec_driver_sql(
            "CREATE TEMP TABLE once (id int, CONSTRAINT once_id UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)"
        )
        connection.exec_driver_sql("INSERT INTO once VALUES (1), (1)")


def test_after_a_failed_commit_the_request_connection_is_not_reused(app: Flask, factory: Factory) -> None:
    """SQLite can keep its transaction (and write lock) after a failed COMMIT, and SQLAlchemy's rollback then
    sends no ROLLBACK: the connection goes back to the pool, whose reset does, and the next use gets a clean one."""
    user = factory.user()
    with app.app_context():
        with lookup() as connection:
            found = users.by_token(connection, user.token or "")
        assert found is not None
        with pytest.raises(IntegrityError), write() as work:
            _deactivate_then_fail_at_commit(work.connection, user.username, found.id)
        with lookup() as connection:  # same app context: must not see the failed write's rows
            assert users.by_token(connection, user.token or "") is not None
        with write() as work:  # and can write again (no "transaction within a transaction", no lock held)
            work.connection.execute(update(_users).where(_users.c.username == user.username).values(active=False))
    assert not _active(app, user.username)


def test_a_lookup_inside_a_write_is_refused(app: Flask, factory: Factory) -> None:
    factory.user()
    with app.app_context(), write(), pytest.raises(RuntimeError, match="do not nest"), lookup():
        pass


def test_a_token_request_that_opens_a_session_holds_one_connection_at_a_time(
    client: FlaskClient, factory: Factory, odk: Path
) -> None:
    """formList: the token lookup's connection goes back to the pool before the ORM session takes its own."""
    enumerator = factory.user()
    factory.publish(odk / "forms/simple.xml")
    engine = engine_of(client.application)
    held, peak = [0], [0]

    def checkout(*_: object) -> None:
        held[0] += 1
        peak[0] = max(peak[0], held[0])

    def checkin(*_: object) -> None:
        held[0] -= 1

    event.listen(engine, "checkout", checkout)
    event.listen(engine, "checkin", checkin)
    try:
        response = client.get(f"{enumerator.prefix}/formList")
    finally:
        event.remove(engine, "checkout", checkout)
        event.remove(engine, "checkin", checkin)
    assert response.status_code == 200, response.data
    assert b"simple" in response.data
    assert peak[0] == 1
    assert held[0] == 0
