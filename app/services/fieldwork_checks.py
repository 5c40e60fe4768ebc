"""What a fieldwork reviewer must look at: submissions needing review, possible duplicates, odd interview durations.

Each list takes the same ``Filters`` as the activity counts (``app.services.fieldwork``) and returns at most
``limit`` rows with the total count, newest first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, aliased

from app.models import Firm, FirmContact, FirmObservation, Form, ReviewState, Submission, SurveyRound, User, ValueChain
from app.services.fieldwork import AnySelect, Filters, conditions, medians, scoped
from app.vocab import ProcessingStatus

LIMIT = 200
T = TypeVar("T")
# Durations far from the norm of their form and round (see README, "Fieldwork monitoring").
SHORT, LONG = 0.25, 3.0  # below a quarter of the median, or above three times it
MIN_NORM = 5  # a median over fewer interviews is no norm
OPEN_STATES = (ReviewState.HAS_ISSUES, ReviewState.EDITED)  # still waiting for a reviewer's decision


@dataclass
class Row:
    """One submission as the lists show it."""

    id: int
    instance_id: str
    form: str
    enumerator: str | None
    received_at: dt.datetime
    firm: str | None
    round: str | None
    review_state: ReviewState | None
    errors: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Listing(Generic[T]):
    rows: list[T]
    total: int

    @property
    def truncated(self) -> bool:
        return self.total > len(self.rows)


def _rows(where: list[ColumnElement[bool]]) -> AnySelect:
    """What a ``Row`` needs, for the submissions ``where`` selects (their observation outer-joined)."""
    stmt = select(
        Submission.id,
        Submission.instance_id,
        Form.form_id,
        User.username,
        Submission.created_at,
        Firm.panel_code,
        SurveyRound.code,
        Submission.review_state,
        Submission.processing_errors,
    ).select_from(Submission)
    return (
        scoped(stmt, where)
        .join(Form, Form.id == Submission.form_pk)
        .outerjoin(User, User.id == Submission.submitter_id)
        .outerjoin(Firm, Firm.id == Submission.firm_id)
        .outerjoin(SurveyRound, SurveyRound.id == Submission.round_id)
    )


def _row(values: Any) -> Row:
    pk, instance_id, form, enumerator, received_at, firm, round_code, state, errors = values[:9]
    return Row(pk, instance_id, form, enumerator, received_at, firm, round_code, state, list(errors or []))


def rows_of(session: Session, pks: list[int]) -> list[Row]:
    """These submissions (deleted ones included), in the order given."""
    found = {r[0]: _row(r) for r in session.execute(_rows([Submission.id.in_(pks)]))}
    return [found[pk] for pk in pks if pk in found]


def _count(session: Session, where: list[ColumnElement[bool]]) -> int:
    return session.scalar(scoped(select(func.count(Submission.id)).select_from(Submission), where)) or 0


def needing_review(
    session: Session, filters: Filters, *, pending_only: bool = True, limit: int = LIMIT
) -> Listing[Row]:
    """Submissions whose mapping failed (``needs_review``), with their errors; ``pending_only`` leaves out those a
    reviewer already approved or rejected."""
    where = [*conditions(session, filters), Submission.processing_status == ProcessingStatus.NEEDS_REVIEW]
    if pending_only:
        where.append(or_(Submission.review_state.is_(None), Submission.review_state.in_(OPEN_STATES)))
    stmt = _rows(where).order_by(Submission.created_at.desc(), Submission.id.desc())
    return Listing([_row(r) for r in session.execute(stmt.limit(limit))], _count(session, where))


@dataclass
class Duplicate:
    row: Row
    counted_id: int | None  # the submission that counts for the firm and round, if one still does
    counted_instance_id: str | None
    counted_enumerator: str | None

    @property
    def other_enumerator(self) -> bool:
        return self.counted_id is not None and self.counted_enumerator != self.row.enumerator


def duplicates(session: Session, filters: Filters, limit: int = LIMIT) -> Listing[Duplicate]:
    """Submissions flagged ``duplicate``: their firm and round already count with another submission (named)."""
    where = [*conditions(session, filters), Submission.processing_status == ProcessingStatus.DUPLICATE]
    counted, counted_obs, counted_user = aliased(Submission), aliased(FirmObservation), aliased(User)
    stmt = (
        _rows(where)
        .add_columns(counted.id, counted.instance_id, counted_user.username)
        .outerjoin(
            counted_obs,
            (counted_obs.firm_id == Submission.firm_id) & (counted_obs.round_id == Submission.round_id),
        )
        .outerjoin(counted, counted.id == counted_obs.submission_id)
        .outerjoin(counted_user, counted_user.id == counted.submitter_id)
        .order_by(Submission.created_at.desc(), Submission.id.desc())
    )
    rows = [Duplicate(_row(r), *r[9:]) for r in session.execute(stmt.limit(limit))]
    return Listing(rows, _count(session, where))


@dataclass
class Registration:
    chain: str
    panel_code: str
    name: str  # personal data: shown to administrators only
    submission_id: int | None


def double_registrations(session: Session, filters: Filters, limit: int = LIMIT) -> Listing[Registration]:
    """Active firms of one chain registered under the same name (case and surrounding spaces ignored): the same
    firm may have been registered twice as new, which the firm-and-round duplicate check cannot see."""
    key = func.lower(func.trim(FirmContact.firm_name))
    base = select(Firm.value_chain_id, key.label("key")).join(FirmContact, FirmContact.firm_id == Firm.id)
    base = base.where(Firm.is_active, FirmContact.firm_name.is_not(None), func.trim(FirmContact.firm_name) != "")
    if filters.chain:
        base = base.where(Firm.value_chain_id.in_(select(ValueChain.id).where(ValueChain.code == filters.chain)))
    twice = base.group_by(Firm.value_chain_id, key).having(func.count(Firm.id) > 1).subquery()
    stmt = (
        select(ValueChain.code, Firm.panel_code, FirmContact.firm_name, Firm.registered_by_submission_id)
        .join(FirmContact, FirmContact.firm_id == Firm.id)
        .join(ValueChain, ValueChain.id == Firm.value_chain_id)
        .join(twice, (twice.c.value_chain_id == Firm.value_chain_id) & (twice.c.key == key))
        .where(Firm.is_active)
        .order_by(ValueChain.code, key, Firm.panel_code)
    )
    rows = [Registration(c, p, n or "", s) for c, p, n, s in session.execute(stmt.limit(limit))]
    return Listing(rows, session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)


@dataclass
class Outlier:
    row: Row
    duration_seconds: int
    median_seconds: float
    interviews: int  # how many interviews the median is over

    @property
    def ratio(self) -> float:
        return self.duration_seconds / self.median_seconds if self.median_seconds else 0.0

    @property
    def reason(self) -> str:
        if self.duration_seconds <= 0:
            return "ends before it starts"
        return "short" if self.duration_seconds < SHORT * self.median_seconds else "long"


def duration_norms(filters: Filters) -> AnySelect:
    """Median duration and count per (form, round), over every mapped interview of the form and round: another
    filter (enumerator, dates, chain) narrows the list, not the norm."""
    source = (
        select(
            Submission.form_pk.label("form_pk"),
            FirmObservation.round_id.label("round_id"),
            FirmObservation.duration_seconds.label("value"),
        )
        .join(FirmObservation, FirmObservation.submission_id == Submission.id)
        .where(Submission.deleted_at.is_(None), FirmObservation.duration_seconds > 0)
    )
    if filters.form:
        source = source.where(Submission.form_pk.in_(select(Form.id).where(Form.form_id == filters.form)))
    if filters.round:
        source = source.where(
            FirmObservation.round_id.in_(select(SurveyRound.id).where(SurveyRound.code == filters.round))
        )
    return medians(source, ["form_pk", "round_id"])


def duration_outliers(session: Session, filters: Filters, limit: int = LIMIT) -> Listing[Outlier]:
    """Interviews below SHORT or above LONG times the median of their form and round (over ≥ MIN_NORM interviews),
    and any that end before they start."""
    norms = duration_norms(filters).subquery()
    median, n = norms.c[2], norms.c[3]
    duration = FirmObservation.duration_seconds
    far = or_(duration <= 0, duration < SHORT * median, duration > LONG * median)
    where = [*conditions(session, filters), duration.is_not(None), n >= MIN_NORM, far]
    on_norm = (norms.c.form_pk == Submission.form_pk) & (norms.c.round_id == FirmObservation.round_id)
    stmt = _rows(where).join(norms, on_norm).add_columns(duration, median, n)
    stmt = stmt.order_by(Submission.created_at.desc(), Submission.id.desc())
    rows = [Outlier(_row(r), int(r[9]), float(r[10]), int(r[11])) for r in session.execute(stmt.limit(limit))]
    return Listing(rows, session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
