"""``app.prepared``: statements run on the DBAPI cursor give and store exactly what ``Connection.execute`` would.

The submission path's own statements write the rows; ``users.by_token`` is covered by test_lookup.py.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, cast

import pytest
from flask import Flask
from sqlalchemy import Connection, Executable, Table, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ClauseElement

from app.db import engine_of, transaction
from app.models import Submission, SubmissionVersion, User
from app.prepared import Prepared
from app.services.submissions import INSERT_SUBMISSION, INSERT_VERSION, POINT_TO_VERSION
from app.vocab import ProcessingStatus
from tests.helpers import Factory

_subs, _svs = cast(Table, Submission.__table__), cast(Table, SubmissionVersion.__table__)
_users = cast(Table, User.__table__)

MOMENT = dt.datetime(2024, 3, 1, 9, 2, 3, 456789, tzinfo=dt.timezone(dt.timedelta(hours=3)))
ERRORS = [{"path": "/data/näme", "message": "ünïcode ✓"}]
XML = b"<data>\x00\xff\xfe not UTF-8</data>"

STORED = (
    select(
        _subs.c.created_at,
        _subs.c.processing_status,
        _subs.c.processing_errors,
        _subs.c.processed_at,
        _svs.c.xml,
        _svs.c.encrypted,
        _svs.c.received_at,
        _svs.c.deprecated_id,
    )
    .join_from(_subs, _svs, _svs.c.id == _subs.c.current_version_id)
    .where(_subs.c.id == bindparam("sid"))
)
READ_STORED = Prepared(STORED)
RAW = (
    "SELECT s.created_at, s.processing_status, s.processing_errors, s.processed_at, v.xml, v.encrypted, v.received_at "
    "FROM submissions s JOIN submission_versions v ON v.id = s.current_version_id ORDER BY s.id"
)
ACTIVE_CORE = select(_users.c.active).where(_users.c.username == bindparam("name"))
ACTIVE = Prepared(ACTIVE_CORE)
SET_ACTIVE = Prepared(update(_users).where(_users.c.username == bindparam("name")).values(active=bindparam("active")))


def _run(db: Connection, statement: Prepared, params: dict[str, object], *, core: bool) -> tuple[Any, ...] | None:
    """The statement run by Prepared, or by SQLAlchemy's own ``Connection.execute``."""
    if not core:
        return statement.first(db, params)
    result = db.execute(cast(Executable, statement.statement), params)
    return tuple(result.one()) if result.returns_rows else None


def _store(db: Connection, form_pk: int, version_pk: int, user_pk: int, instance_id: str, *, core: bool) -> int:
    """One submission as ``submissions.receive`` stores it, through the app's own statements."""
    common = {"form_pk": form_pk, "instance_id": instance_id, "submitter_id": user_pk}
    made = _run(db, INSERT_SUBMISSION, {**common, "created_at": MOMENT, "processing_errors": ERRORS}, core=core)
    assert made is not None
    unset = ("deprecated_id", "instance_name", "device_id", "user_agent", "encrypted_key", "encrypted_xml_name")
    version_params = {
        **common,
        **dict.fromkeys((*unset, "encrypted_signature")),
        "submission_id": made[0],
        "form_version_id": version_pk,
        "xml": XML,
        "xml_sha256": "0" * 64,
        "received_at": MOMENT,
        "encrypted": True,
    }
    version = _run(db, INSERT_VERSION, version_params, core=core)
    assert version is not None
    status = {"sid": made[0], "vid": version[0], "status": ProcessingStatus.NOT_MAPPED, "at": MOMENT}
    assert _run(db, POINT_TO_VERSION, status, core=core) is None  # an UPDATE: nothing returned
    submission_id: int = made[0]
    return submission_id


def _ids(app: Flask, factory: Factory, odk: Path) -> tuple[int, int, int]:
    factory.user()
    published = factory.publish(odk / "forms/simple.xml")
    with app.app_context(), transaction() as session:
        user_pk = session.scalars(select(User.id)).one()
    return published.form.id, published.version.id, user_pk


def test_values_round_trip_as_connection_execute_gives_and_stores_them(app: Flask, factory: Factory, odk: Path) -> None:
    form_pk, version_pk, user_pk = _ids(app, factory, odk)
    with app.app_context():
        with transaction(write=True) as session:
            prepared_id = _store(session.connection(), form_pk, version_pk, user_pk, "by-prepared", core=False)
            core_id = _store(session.connection(), form_pk, version_pk, user_pk, "by-core", core=True)
        with transaction() as session:
            db = session.connection()
            read = [READ_STORED.first(db, {"sid": sid}) for sid in (prepared_id, core_id)]
            core_read = [tuple(db.execute(STORED, {"sid": sid}).one()) for sid in (prepared_id, core_id)]
            raw = db.exec_driver_sql(RAW).all()  # as the driver hands them back: both ways store the same
    assert len(raw) == 2
    assert raw[0] == raw[1]
    assert read == core_read == [read[0], read[0]]
    row = read[0]
    assert row is not None
    assert [type(value) for value in row] == [type(value) for value in core_read[0]]  # memoryview == bytes, etc.
    created_at, status, errors, processed_at, xml, encrypted, received_at, deprecated_id = row
    for moment in (created_at, processed_at, received_at):
        assert moment == MOMENT
        assert moment.tzinfo is dt.UTC
        assert moment.hour == 6
    assert status is ProcessingStatus.NOT_MAPPED
    assert errors == ERRORS
    assert type(errors) is list
    assert xml == XML
    assert type(xml) is bytes
    assert encrypted is True
    assert deprecated_id is None


def _insert_twice(db: Connection, params: dict[str, object]) -> None:
    INSERT_SUBMISSION.first(db, params)
    INSERT_SUBMISSION.first(db, params)


def test_a_unique_violation_is_sqlalchemys_integrity_error_and_rolls_back(
    app: Flask, factory: Factory, odk: Path
) -> None:
    form_pk, _, user_pk = _ids(app, factory, odk)
    params: dict[str, object] = {"form_pk": form_pk, "instance_id": "twice", "submitter_id": user_pk}
    params |= {"created_at": MOMENT, "processing_errors": []}
    count = select(func.count()).select_from(_subs)
    with app.app_context():
        with pytest.raises(IntegrityError) as caught, transaction(write=True) as session:
            _insert_twice(session.connection(), params)
        driver = engine_of(app).dialect.loaded_dbapi
        assert isinstance(caught.value.orig, driver.IntegrityError)
        assert caught.value.__cause__ is caught.value.orig
        with transaction(write=True) as session:  # the same session: the failed transaction is gone
            assert session.scalar(count) == 0  # the first insert was rolled back with it
            assert INSERT_SUBMISSION.first(session.connection(), params) is not None
        with transaction() as session:
            assert session.scalar(count) == 1


@pytest.mark.parametrize(
    "statement",
    [
        # created_at and processing_errors would be left to Python-side defaults that Prepared never applies
        insert(_subs).values(form_pk=bindparam("form_pk"), instance_id=bindparam("iid")),
        select(_users.c.id).where(_users.c.username == "x"),  # a literal value, not a named bindparam
    ],
    ids=["python-side-defaults", "literal-value"],
)
def test_statements_it_cannot_run_faithfully_are_refused_on_first_use(app: Flask, statement: ClauseElement) -> None:
    prepared = Prepared(statement)
    with app.app_context(), engine_of(app).connect() as connection:
        for _ in range(2):  # refused every time, not only until a broken plan is cached
            with pytest.raises(ValueError, match="bindparam"):
                prepared.first(connection, {"form_pk": 1, "iid": "x"})
        assert connection.execute(select(func.count()).select_from(_subs)).scalar_one() == 0


def test_an_expanding_in_is_refused(app: Flask) -> None:
    prepared = Prepared(select(_users.c.id).where(_users.c.id.in_(bindparam("ids", expanding=True))))
    with app.app_context(), engine_of(app).connect() as connection, pytest.raises(ValueError, match="bindparam"):
        prepared.first(connection, {"ids": [1, 2]})


def test_execute_runs_in_sqlalchemys_transaction_and_first_finds_nothing(app: Flask, factory: Factory) -> None:
    user = factory.user()
    engine = engine_of(app)
    with engine.connect() as connection:
        assert not connection.in_transaction()
        SET_ACTIVE.execute(connection, {"name": user.username, "active": False})
        assert connection.in_transaction()  # begun by SQLAlchemy, so its rollback undoes the write
        connection.rollback()
        assert ACTIVE.first(connection, {"name": user.username}) == (True,)
        assert ACTIVE.first(connection, {"name": "nobody"}) is None
        SET_ACTIVE.execute(connection, {"name": user.username, "active": False})
        connection.commit()
    with engine.connect() as connection:
        assert connection.execute(ACTIVE_CORE, {"name": user.username}).scalar_one() is False
