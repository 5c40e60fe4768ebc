"""From a stored submission to domain rows: map, validate, resolve codes, then write — or flag, never half-apply.

``process`` is called in the same transaction that stores a new version of a submission, inside a savepoint, and
again by ``flask submissions reprocess``. It is idempotent: the rows derived from a submission are fingerprinted,
and processing the same data again changes nothing. Whatever fails, the raw submission stays as it was received.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import utcnow
from app.ingest.instance import InstanceError, read_instance
from app.ingest.mapping import Extracted, extract
from app.models import (
    ChainFunction,
    EndMarket,
    Firm,
    FirmObservation,
    FirmRound,
    FormVersion,
    ReasonCode,
    ReviewState,
    Submission,
    SubmissionVersion,
    SurveyRound,
    UpgradingPractice,
    ValueChain,
)
from app.schemas.record import interview_year, load_record
from app.services.derive import Resolved, write_rows
from app.services.indicators.staleness import mark_chain, mark_stale
from app.vocab import ProcessingStatus

log = logging.getLogger(__name__)


@dataclass
class Problems:
    """Errors with the form's own question path, the domain field and a message."""

    sources: dict[str, str]
    items: list[dict[str, str]] = field(default_factory=list)

    def add(self, key: str, message: str) -> None:
        self.items.append({"path": self.sources.get(key, key), "field": key, "message": message})

    def add_marshmallow(self, messages: Any, key: str = "") -> None:
        if isinstance(messages, dict):
            for name, value in messages.items():
                self.add_marshmallow(value, _join(key, name))
        elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
            for message in messages:
                self.add(key, message)
        else:
            self.add(key, str(messages))


def _join(key: str, name: object) -> str:
    if isinstance(name, int):
        return f"{key}[{name}]"
    return f"{key}.{name}" if key else str(name)


def _fingerprint(resolved: Resolved) -> str:
    return hashlib.sha256(json.dumps(resolved.fingerprint(), sort_keys=True, default=str).encode()).hexdigest()


def _clear_rows(session: Session, submission: Submission) -> None:
    """Remove what this submission derived. A firm it registered leaves the roster unless others observed it."""
    observation = session.scalar(select(FirmObservation).where(FirmObservation.submission_id == submission.id))
    if observation is not None:
        chain_id = session.scalar(select(Firm.value_chain_id).where(Firm.id == observation.firm_id))
        if chain_id is not None:
            mark_stale(session, chain_id, observation.round_id, "submission")
        session.delete(observation)
    registered = session.scalar(select(Firm).where(Firm.registered_by_submission_id == submission.id))
    if registered is not None and not _observed_elsewhere(session, registered, submission):
        registered.is_active = False  # never deleted: its panel code must not be given to another firm
    session.execute(
        update(FirmRound).where(FirmRound.submission_id == submission.id).values(submission_id=None, interviewed=False)
    )
    session.flush()


def _observed_elsewhere(session: Session, firm: Firm, submission: Submission) -> bool:
    other = select(FirmObservation.id).where(
        FirmObservation.firm_id == firm.id, FirmObservation.submission_id != submission.id
    )
    return session.scalar(other.limit(1)) is not None


def _set(
    submission: Submission,
    status: ProcessingStatus,
    errors: list[dict[str, str]] | None = None,
    fingerprint: str | None = None,
) -> None:
    submission.processing_status = status
    submission.processing_errors = errors or []
    submission.derived_hash = fingerprint
    submission.processed_at = utcnow()


def interviewed_by(session: Session, firm_id: int, round_id: int, submission_id: int) -> str | None:
    """The instanceID of another submission that already counts for this firm and round, if any."""
    return session.scalar(
        select(Submission.instance_id)
        .join(FirmObservation, FirmObservation.submission_id == Submission.id)
        .where(
            FirmObservation.firm_id == firm_id,
            FirmObservation.round_id == round_id,
            FirmObservation.submission_id != submission_id,
        )
    )


def _raced_another_interview(exc: Exception) -> bool:
    text = str(exc.orig) if isinstance(exc, IntegrityError) else ""
    return "firm_observations" in text and "round_id" in text


RACED = "Another interview of this firm in this round was stored at the same moment: a possible duplicate."


def process(session: Session, submission: Submission) -> bool:
    """Derive (or re-derive) the domain rows of ``submission``'s current version. True if anything changed."""
    before = (submission.processing_status, submission.derived_hash, list(submission.processing_errors))
    savepoint = session.begin_nested()
    try:
        _process(session, submission)
        savepoint.commit()
    except Exception as exc:
        savepoint.rollback()
        if _raced_another_interview(exc):
            # Two interviews of one firm and round, stored concurrently: the UNIQUE (firm, round) constraint let
            # the first count; this one is what the duplicate check would have found a moment later.
            _set(submission, ProcessingStatus.DUPLICATE, [{"path": "", "field": "firm.panel_code", "message": RACED}])
            return (submission.processing_status, submission.derived_hash, submission.processing_errors) != before
        log.exception("processing submission %s failed", submission.instance_id)
        _set(
            submission,
            ProcessingStatus.NEEDS_REVIEW,
            [{"path": "", "field": "", "message": "Internal error while mapping; see the server log."}],
        )
    return (submission.processing_status, submission.derived_hash, submission.processing_errors) != before


def _process(session: Session, submission: Submission) -> None:  # noqa: PLR0911 - a pipeline of early exits
    version = session.get(SubmissionVersion, submission.current_version_id)
    assert version is not None  # noqa: S101 - a stored submission always has its current version
    form_version = session.get(FormVersion, version.form_version_id)
    assert form_version is not None  # noqa: S101
    if not form_version.mapping or version.encrypted:
        _clear_rows(session, submission)
        _set(submission, ProcessingStatus.NOT_MAPPED)
        return
    if submission.review_state is ReviewState.REJECTED:
        _clear_rows(session, submission)  # a reviewer rejected it: it counts for nothing until un-rejected
        submission.derived_hash = None
        return
    try:
        root = read_instance(version.xml).root
    except InstanceError as exc:  # stored before this reader got stricter: keep it, flag it
        _clear_rows(session, submission)
        _set(submission, ProcessingStatus.NEEDS_REVIEW, [{"path": "", "field": "", "message": str(exc)}])
        return
    extracted = extract(root, form_version.mapping)
    problems = Problems(extracted.sources)
    resolved = _validate_and_resolve(session, submission, version, extracted, problems)
    if problems.items or resolved is None:
        _clear_rows(session, submission)
        _set(submission, ProcessingStatus.NEEDS_REVIEW, problems.items)
        return
    if not resolved.consent:
        _clear_rows(session, submission)
        _set(submission, ProcessingStatus.REFUSED)
        return
    firm, survey_round = resolved.firm, resolved.round
    if firm is None or survey_round is None:
        raise RuntimeError("a consenting record resolves to a firm and a round")
    submission.firm_id, submission.round_id = firm.id, survey_round.id
    other = interviewed_by(session, firm.id, survey_round.id, submission.id)
    if other is not None:
        _clear_rows(session, submission)
        problems.add(
            "firm.panel_code",
            f"Firm {firm.panel_code} was already interviewed in round {survey_round.code} "
            f"(submission {other}): a possible duplicate.",
        )
        _set(submission, ProcessingStatus.DUPLICATE, problems.items)
        return
    fingerprint = _fingerprint(resolved)
    if submission.processing_status is ProcessingStatus.MAPPED and submission.derived_hash == fingerprint:
        return  # the rows already say exactly this
    _clear_rows(session, submission)
    write_rows(session, submission, resolved)
    _set(submission, ProcessingStatus.MAPPED, fingerprint=fingerprint)


def _validate_and_resolve(
    session: Session,
    submission: Submission,
    version: SubmissionVersion,
    extracted: Extracted,
    problems: Problems,
) -> Resolved | None:
    if "interview" not in extracted.record:
        problems.add("interview.round", "The form maps no interview.round / interview.consent.")
        return None
    try:
        record = load_record(extracted.record, interview_year(extracted.record, version.received_at))
    except ValidationError as exc:
        problems.add_marshmallow(exc.messages)
        return None
    if not record["interview"]["consent"]:
        return Resolved.refusal(record)
    return _resolve(session, submission, record, problems)


def _resolve(session: Session, submission: Submission, record: dict[str, Any], problems: Problems) -> Resolved | None:
    survey_round = session.scalar(select(SurveyRound).where(SurveyRound.code == record["interview"]["round"]))
    if survey_round is None:
        problems.add("interview.round", f"There is no survey round '{record['interview']['round']}'.")
    firm, chain = _firm_and_chain(session, submission, record["firm"], problems)
    if survey_round is None or chain is None:
        return None
    codes = _chain_codes(session, chain)
    resolved = Resolved(record=record, consent=True, round=survey_round, chain=chain, firm=firm)
    resolved.functions = _codes(
        problems, "observation.functions", record["observation"]["functions"] or [], codes.functions
    )
    for i, sale in enumerate(record["sale"]):
        resolved.markets.append(_code(problems, f"sale[{i}].end_market", sale["end_market"], codes.markets))
    seen: set[str] = set()
    for i, decision in enumerate(record["decision"]):
        if decision["practice"] in seen:
            problems.add(f"decision[{i}].practice", f"Practice {decision['practice']} is answered twice.")
        seen.add(decision["practice"])
        resolved.practices.append(_code(problems, f"decision[{i}].practice", decision["practice"], codes.practices))
        main = [decision["main_reason"]] if decision["main_reason"] else []
        resolved.reasons.append(
            (
                _codes(problems, f"decision[{i}].main_reason", main, codes.reasons),
                _codes(problems, f"decision[{i}].other_reasons", decision["other_reasons"] or [], codes.reasons),
            )
        )
    if problems.items:
        return None
    if resolved.firm is None:
        resolved.firm = _register_firm(session, submission, chain)
    return resolved


def _firm_and_chain(
    session: Session, submission: Submission, firm_in: dict[str, Any], problems: Problems
) -> tuple[Firm | None, ValueChain | None]:
    """The roster firm named by panel code, or the firm this interview registered earlier (if any), and its chain."""
    firm: Firm | None
    if firm_in["panel_code"]:
        firm = session.scalar(select(Firm).where(Firm.panel_code == firm_in["panel_code"]))
        if firm is None:
            problems.add("firm.panel_code", f"There is no firm with panel code '{firm_in['panel_code']}'.")
    else:
        firm = session.scalar(select(Firm).where(Firm.registered_by_submission_id == submission.id))
    chain_code = firm_in["value_chain"] or (firm.value_chain.code if firm is not None else None)
    chain = session.scalar(select(ValueChain).where(ValueChain.code == chain_code)) if chain_code else None
    if chain is None:
        problems.add("firm.value_chain", f"Unknown value chain '{chain_code}'." if chain_code else "No value chain.")
    elif firm is not None and firm.value_chain_id != chain.id:
        if firm.registered_by_submission_id == submission.id and not _observed_elsewhere(session, firm, submission):
            _recode(session, firm, chain)  # an edit corrects the chain of the firm this interview registered
        else:
            problems.add("firm.value_chain", f"Firm {firm.panel_code} is in {firm.value_chain.code}, not {chain.code}.")
    return firm, chain


@dataclass
class _ChainCodes:
    functions: dict[str, int]
    markets: dict[str, int]
    practices: dict[str, int]
    reasons: dict[str, int]


def _chain_codes(session: Session, chain: ValueChain) -> _ChainCodes:
    def ids(stmt: Any) -> dict[str, int]:
        return {row[0]: row[1] for row in session.execute(stmt)}

    return _ChainCodes(
        functions=ids(select(ChainFunction.code, ChainFunction.id).where(ChainFunction.value_chain_id == chain.id)),
        markets=ids(select(EndMarket.code, EndMarket.id).where(EndMarket.value_chain_id == chain.id)),
        practices=ids(
            select(UpgradingPractice.code, UpgradingPractice.id).where(UpgradingPractice.value_chain_id == chain.id)
        ),
        reasons=ids(select(ReasonCode.code, ReasonCode.id)),
    )


def _code(problems: Problems, key: str, code: str, known: dict[str, int]) -> int:
    if code not in known:
        problems.add(key, f"'{code}' is not a code of this value chain.")
        return 0
    return known[code]


def _codes(problems: Problems, key: str, codes: list[str], known: dict[str, int]) -> list[int]:
    return [_code(problems, key, code, known) for code in codes]


def _next_panel_code(session: Session, chain: ValueChain) -> str:
    """<CHAIN>-00001 upwards. The chain's row is locked so that concurrent registrations take turns."""
    session.execute(select(ValueChain.id).where(ValueChain.id == chain.id).with_for_update())
    prefix = f"{chain.code}-"
    taken = set(session.scalars(select(Firm.panel_code).where(Firm.panel_code.startswith(prefix))))
    number = len(taken) + 1
    while f"{prefix}{number:05d}" in taken:
        number += 1
    return f"{prefix}{number:05d}"


def _recode(session: Session, firm: Firm, chain: ValueChain) -> None:
    mark_chain(session, firm.value_chain_id, "submission")  # the firm leaves its old chain's results
    firm.panel_code = _next_panel_code(session, chain)
    firm.value_chain_id = chain.id
    firm.value_chain = chain


def _register_firm(session: Session, submission: Submission, chain: ValueChain) -> Firm:
    """A new panel firm; found again by its registering submission."""
    code = _next_panel_code(session, chain)
    firm = Firm(panel_code=code, value_chain_id=chain.id, registered_by_submission_id=submission.id)
    firm.value_chain = chain
    session.add(firm)
    session.flush()
    return firm


def forget_rows(session: Session, submission: Submission) -> None:
    """Used when a submission is deleted or rejected: its rows stop counting (the raw XML stays)."""
    _clear_rows(session, submission)


def mark_not_mapped(session: Session, submission: Submission, *, had_rows: bool) -> None:
    """The fast path for a form that declares no mapping (or an encrypted submission): nothing to derive."""
    if had_rows:
        _clear_rows(session, submission)
    _set(submission, ProcessingStatus.NOT_MAPPED)
