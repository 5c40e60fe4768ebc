"""The synthetic panel against the database: its catalogue, rounds and form come from here, and its interviews are
stored through the same service as a phone's (``submissions.receive``). The caller owns the transactions: one per
interview, as the OpenRosa endpoint has one per request.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app.db import Work
from app.demo import ChainSpec, FormSpec, FunctionSpec, MarketSpec, PracticeSpec, ReasonSpec, RoundSpec
from app.demo.setup import BASELINE_YEAR, planned_rounds
from app.errors import ConflictError, InvalidError, NotFoundError
from app.ingest.instance import InstanceError, read_instance
from app.models import Firm, ReasonCode, Role, Submission, SubmissionVersion, UpgradingPractice, ValueChain
from app.services import forms, lists, rounds, submissions, users
from app.services.users import Actor
from app.vocab import RoundKind

DEVICE_ID = "chainlift-demo"  # recorded on every stored demo interview: how demo data is recognised
USER_AGENT = "chainlift-demo/1 (flask demo generate)"


def catalogue(session: Session) -> tuple[list[ChainSpec], list[ReasonSpec]]:
    """The loaded value chains (active practices only) and reason codes."""
    chains = session.scalars(
        select(ValueChain)
        .options(
            selectinload(ValueChain.functions),
            selectinload(ValueChain.end_markets),
            selectinload(ValueChain.practices).selectinload(UpgradingPractice.target_function),
            selectinload(ValueChain.practices).selectinload(UpgradingPractice.target_end_market),
        )
        .order_by(ValueChain.code)
    ).all()
    if not chains:
        raise NotFoundError("No value chains are loaded: run `flask --app wsgi catalogue load forms/catalogue.yaml`.")
    specs = [
        ChainSpec(
            code=c.code,
            sector=c.sector.value,
            country_iso3=c.country_iso3,
            currency=c.currency,
            product=c.product,
            functions=tuple(FunctionSpec(f.code, f.value_added_rank) for f in c.functions),
            end_markets=tuple(MarketSpec(m.code, m.tier, m.is_export) for m in c.end_markets),
            practices=tuple(
                PracticeSpec(
                    p.code,
                    p.upgrading_type.value,
                    p.name,
                    p.name_fr,
                    p.target_function.code if p.target_function else None,
                    p.target_end_market.code if p.target_end_market else None,
                )
                for p in c.practices
                if p.is_active
            ),
        )
        for c in chains
    ]
    reasons = [
        ReasonSpec(r.code, r.category.value) for r in session.scalars(select(ReasonCode).order_by(ReasonCode.code))
    ]
    return specs, reasons


def ensure_rounds(session: Session, count: int, *, create: bool = True) -> tuple[list[RoundSpec], list[str]]:
    """Rounds number 0 … count-1: those that exist are used as they are, the others are created (unless
    ``create`` is false) as app/demo/setup.py plans them: calendar-year reference periods, deflators 0.95, 0.90 …
    Returns (rounds, codes of the rounds created)."""
    existing = {r.number: r for r in rounds.list_rounds(session)}
    anchor = existing.get(0)
    baseline_year = anchor.reference_period_end.year if anchor and anchor.reference_period_end else BASELINE_YEAR
    specs, created = [], []
    for planned in planned_rounds(count, baseline_year):
        found = existing.get(planned.number)
        if found is None and not create:
            specs.append(planned.spec())
            continue
        if found is None:
            found = rounds.create_round(
                session,
                planned.code,
                planned.number,
                RoundKind(planned.kind),
                name=planned.name,
                reference_period=(planned.reference_start, planned.reference_end),
                deflator=Decimal(str(planned.deflator)),
            )
            created.append(found.code)
        start = found.reference_period_start or planned.reference_start
        end = found.reference_period_end or planned.reference_end
        specs.append(RoundSpec(found.code, found.number, float(found.deflator_to_base), start, end))
    return specs, created


def form_spec(session: Session, form_id: str) -> FormSpec:
    form = forms.get_form(session, form_id)
    if form.current_version is None:
        raise NotFoundError(f"Form '{form_id}' has no published version.")
    if not form.current_version.mapping:
        raise InvalidError(f"Form '{form_id}' declares no mapping to the firm panel (see docs/mapping.md).")
    return FormSpec(form.form_id, form.current_version.version)


def actor(session: Session, username: str) -> tuple[Actor, bool]:
    """The user the demo interviews are filed under, created as an enumerator if missing. (actor, created?)"""
    user = users.active_by_name(session, username)
    if user is not None:
        return Actor.of(user), False
    try:
        users.get_user(session, username)
    except NotFoundError:
        user = users.create_user(session, username, Role.ENUMERATOR, users.new_password())
        return Actor.of(user), True
    raise ConflictError(f"User '{username}' is deactivated; choose another --user.")


@dataclass(frozen=True)
class Existing:
    demo_submissions: int
    other_firms: int


def existing(session: Session) -> Existing:
    """Demo interviews already stored, and firms that did not come from them (real data)."""
    demo = (
        select(Submission.id)
        .join(SubmissionVersion, SubmissionVersion.id == Submission.current_version_id)
        .where(SubmissionVersion.device_id == DEVICE_ID)
    )
    demo_count = session.scalar(select(func.count()).select_from(demo.subquery())) or 0
    others = select(func.count(Firm.id)).where(
        Firm.registered_by_submission_id.is_(None) | Firm.registered_by_submission_id.not_in(demo)
    )
    return Existing(demo_count, session.scalar(others) or 0)


def enumerator_of(xml: bytes) -> str | None:
    """The enumerator a filled instance names (its top-level ``enumerator`` field), if any."""
    try:
        node = read_instance(xml).root.child("enumerator")
    except InstanceError:
        return None
    return node.text.strip() or None if node is not None else None


def store(session: Session, by: Actor, xml: bytes) -> submissions.Received:
    """One interview, exactly as the OpenRosa endpoint stores a POST: parse, check, record, map."""
    try:
        instance = read_instance(xml)
    except InstanceError as exc:
        raise InvalidError(str(exc)) from exc
    work = Work.joining(session)
    return submissions.receive(
        work, actor=by, instance=instance, xml=xml, files={}, device_id=DEVICE_ID, user_agent=USER_AGENT
    )


def roster(session: Session) -> bytes:
    """The roster.csv a phone would download now."""
    return lists.generate(session, "roster.csv")


@dataclass(frozen=True)
class Outcome:
    statuses: Counter[str]
    errors: list[tuple[str, list[dict[str, str]]]]  # (instanceID, errors) of the first submissions not mapped


def outcome(session: Session, since: dt.datetime | None = None, first: int = 5) -> Outcome:
    """Processing statuses of the demo interviews (received since ``since``), and the errors of the first few
    that were not mapped."""
    stmt = (
        select(Submission.instance_id, Submission.processing_status, Submission.processing_errors)
        .join(SubmissionVersion, SubmissionVersion.id == Submission.current_version_id)
        .where(SubmissionVersion.device_id == DEVICE_ID)
    )
    if since is not None:
        stmt = stmt.where(Submission.created_at >= since)
    counts: Counter[str] = Counter()
    errors: list[tuple[str, list[dict[str, str]]]] = []
    for instance_id, processing_status, processing_errors in session.execute(stmt.order_by(Submission.id)):
        status = processing_status.value if processing_status else "unprocessed"
        counts[status] += 1
        if status != "mapped" and len(errors) < first:
            errors.append((instance_id, processing_errors))
    return Outcome(counts, errors)
