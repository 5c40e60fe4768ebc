"""Fieldwork monitoring: who submitted how much, on which day, and how long their interviews took.

Every query takes the same ``Filters`` (form, round, value chain, enumerator, date range). A day is a UTC
calendar day, either of the interview's start (``basis="interview"``; the day received when the start is not
known, e.g. for a submission that needs review) or of the day the server received the submission. Submissions
deleted through the API are left out everywhere. The round and chain filters keep only submissions whose firm and
round are known (mapped or duplicate ones).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.orm import Session

from app.errors import InvalidError
from app.models import Firm, FirmObservation, Form, Submission, SurveyRound, User, ValueChain
from app.vocab import ProcessingStatus

Basis = Literal["interview", "received"]
BASES: tuple[Basis, ...] = ("interview", "received")
UNKNOWN_ENUMERATOR = "(unknown)"
AnySelect = Select[*tuple[Any, ...]]


@dataclass(frozen=True)
class Filters:
    form: str | None = None  # form_id
    round: str | None = None  # survey round code
    chain: str | None = None  # value chain code
    enumerator: str | None = None  # the submitter's user name
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    basis: Basis = "interview"


@dataclass(frozen=True)
class Choices:
    """What the filter selects offer."""

    forms: list[str]
    rounds: list[str]
    chains: list[tuple[str, str]]  # (code, name)
    enumerators: list[str]


def choices(session: Session) -> Choices:
    submitters = select(Submission.submitter_id).where(Submission.deleted_at.is_(None)).distinct()
    return Choices(
        forms=list(session.scalars(select(Form.form_id).order_by(Form.form_id))),
        rounds=list(session.scalars(select(SurveyRound.code).order_by(SurveyRound.number, SurveyRound.code))),
        chains=[(c, n) for c, n in session.execute(select(ValueChain.code, ValueChain.name).order_by(ValueChain.code))],
        enumerators=list(session.scalars(select(User.username).where(User.id.in_(submitters)).order_by(User.username))),
    )


def moment(basis: Basis) -> ColumnElement[dt.datetime]:
    """The timestamp a submission is dated by (needs ``FirmObservation`` outer-joined on the submission)."""
    if basis == "received":
        return Submission.created_at.expression
    return func.coalesce(FirmObservation.interview_start, Submission.created_at)


def utc_day(session: Session, value: ColumnElement[dt.datetime]) -> ColumnElement[Any]:
    """The UTC calendar day of a stored timestamp (PostgreSQL's date() would use the session's time zone)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", value))
    return func.date(value)


def as_date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def _known_id(session: Session, stmt: Select[int], what: str) -> int:
    found = session.scalar(stmt)
    if found is None:
        raise InvalidError(f"There is no {what}.")
    return found


def conditions(session: Session, filters: Filters) -> list[ColumnElement[bool]]:
    """WHERE clauses on ``Submission`` (and the outer-joined ``FirmObservation``) for ``filters``.

    Raises InvalidError for a form, round, chain or enumerator that does not exist, or a reversed date range.
    """
    where: list[ColumnElement[bool]] = [Submission.deleted_at.is_(None)]
    if filters.form:
        pk = _known_id(session, select(Form.id).where(Form.form_id == filters.form), f"form '{filters.form}'")
        where.append(Submission.form_pk == pk)
    if filters.round:
        stmt = select(SurveyRound.id).where(SurveyRound.code == filters.round)
        where.append(Submission.round_id == _known_id(session, stmt, f"survey round '{filters.round}'"))
    if filters.chain:
        stmt = select(ValueChain.id).where(ValueChain.code == filters.chain)
        chain_id = _known_id(session, stmt, f"value chain '{filters.chain}'")
        where.append(Submission.firm_id.in_(select(Firm.id).where(Firm.value_chain_id == chain_id)))
    if filters.enumerator:
        stmt = select(User.id).where(User.username == filters.enumerator)
        where.append(Submission.submitter_id == _known_id(session, stmt, f"user '{filters.enumerator}'"))
    if filters.date_from and filters.date_to and filters.date_to < filters.date_from:
        raise InvalidError("The date range ends before it starts.")
    if filters.date_from:
        where.append(moment(filters.basis) >= _day_start(filters.date_from))
    if filters.date_to:
        where.append(moment(filters.basis) < _day_start(filters.date_to + dt.timedelta(days=1)))
    return where


def scoped(stmt: AnySelect, where: list[ColumnElement[bool]]) -> AnySelect:
    """``stmt`` (selecting from ``Submission``) with its observation outer-joined and ``where`` applied."""
    return stmt.outerjoin(FirmObservation, FirmObservation.submission_id == Submission.id).where(*where)


@dataclass
class Counts:
    submissions: int = 0
    needs_review: int = 0
    duplicates: int = 0

    def add(self, other: Counts) -> None:
        self.submissions += other.submissions
        self.needs_review += other.needs_review
        self.duplicates += other.duplicates


@dataclass
class Enumerator:
    name: str
    counts: Counts = field(default_factory=Counts)
    days: int = 0
    first_day: dt.date | None = None
    last_day: dt.date | None = None
    median_duration: float | None = None  # seconds, over the mapped interviews with a start and an end

    @property
    def needs_review_share(self) -> float | None:
        return self.counts.needs_review / self.counts.submissions if self.counts.submissions else None


@dataclass
class Activity:
    """Submissions per day and enumerator (``cells``), and the totals per day and per enumerator."""

    cells: dict[tuple[dt.date, str], Counts]
    days: dict[dt.date, Counts]
    enumerators: list[Enumerator]
    total: Counts

    def chart(self) -> dict[str, Any]:
        """Plotly-ready data: the days, and one trace of counts per enumerator (stacked bars)."""
        days = sorted(self.days)
        traces = [
            {"name": e.name, "y": [self.cells.get((d, e.name), Counts()).submissions for d in days]}
            for e in self.enumerators
        ]
        return {"days": [d.isoformat() for d in days], "traces": traces}


def _status_count(status: ProcessingStatus) -> ColumnElement[int]:
    return func.sum(case((Submission.processing_status == status, 1), else_=0))


def activity(session: Session, filters: Filters) -> Activity:
    where = conditions(session, filters)
    day = utc_day(session, moment(filters.basis)).label("day")
    name = func.coalesce(User.username, UNKNOWN_ENUMERATOR).label("name")
    stmt = select(
        day,
        name,
        func.count(Submission.id),
        _status_count(ProcessingStatus.NEEDS_REVIEW),
        _status_count(ProcessingStatus.DUPLICATE),
    ).outerjoin(User, User.id == Submission.submitter_id)
    cells: dict[tuple[dt.date, str], Counts] = {}
    for raw_day, who, n, needs_review, duplicates in session.execute(scoped(stmt, where).group_by(day, name)):
        cells[(as_date(raw_day), who)] = Counts(n, int(needs_review or 0), int(duplicates or 0))
    days: dict[dt.date, Counts] = defaultdict(Counts)
    people: dict[str, Enumerator] = {}
    total = Counts()
    for (when, who), counts in sorted(cells.items()):
        days[when].add(counts)
        total.add(counts)
        person = people.setdefault(who, Enumerator(who, first_day=when))
        person.counts.add(counts)
        person.days += 1
        person.last_day = when
    for who, median in median_durations(session, where).items():
        if who in people:
            people[who].median_duration = median
    ranked = sorted(people.values(), key=lambda e: (-e.counts.submissions, e.name))
    return Activity(cells, dict(sorted(days.items())), ranked, total)


def medians(source: AnySelect, keys: list[str]) -> AnySelect:
    """SELECT keys…, median(value), n per group of ``source`` (which selects the ``keys`` and a ``value`` column).

    Portable SQL: the middle row (or the mean of the two middle rows) of each group, ranked by window functions.
    """
    inner = source.subquery()
    partition = [inner.c[k] for k in keys]
    ranked = select(
        inner,
        func.row_number().over(partition_by=partition, order_by=inner.c.value).label("rank"),
        func.count().over(partition_by=partition).label("n"),
    ).subquery()
    groups = [ranked.c[k] for k in keys]
    middle = and_(ranked.c.rank >= (ranked.c.n + 1) // 2, ranked.c.rank <= (ranked.c.n + 2) // 2)
    return select(*groups, func.avg(ranked.c.value), func.max(ranked.c.n)).where(middle).group_by(*groups)


def median_durations(session: Session, where: list[ColumnElement[bool]]) -> dict[str, float]:
    """The median interview duration (seconds) per enumerator name, over the submissions ``where`` selects."""
    name = func.coalesce(User.username, UNKNOWN_ENUMERATOR).label("name")
    value = FirmObservation.duration_seconds.label("value")
    source = (
        select(name, value)
        .select_from(Submission)
        .join(FirmObservation, FirmObservation.submission_id == Submission.id)
        .outerjoin(User, User.id == Submission.submitter_id)
        .where(*where, FirmObservation.duration_seconds.is_not(None))
    )
    return {who: float(median) for who, median, _ in session.execute(medians(source, ["name"]))}
