"""One submission as a reviewer sees it, and review actions on submissions named by their primary keys.

The actions go through ``app.services.review`` (which records every event and removes or re-derives the rows of
a rejected submission); this module only finds the submissions, all or none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import NotFoundError
from app.models import FirmObservation, ReviewState, Submission, SubmissionReview, SubmissionVersion, User
from app.services import review
from app.services.fieldwork_checks import Row, rows_of
from app.vocab import ProcessingStatus


@dataclass
class Detail:
    row: Row
    processing_status: ProcessingStatus | None
    processed_at: dt.datetime | None
    versions: int
    interview_start: dt.datetime | None
    interview_end: dt.datetime | None
    duration_seconds: int | None
    counted: Row | None  # for a duplicate: the submission that counts for its firm and round
    history: list[SubmissionReview]


def detail(session: Session, pk: int) -> Detail:
    found = rows_of(session, [pk])
    submission = session.get(Submission, pk)
    if not found or submission is None:
        raise NotFoundError(f"There is no submission {pk}.")
    observation = session.scalar(select(FirmObservation).where(FirmObservation.submission_id == pk))
    versions = session.scalar(select(func.count(SubmissionVersion.id)).where(SubmissionVersion.submission_id == pk))
    counted: Row | None = None
    if submission.processing_status is ProcessingStatus.DUPLICATE and submission.firm_id and submission.round_id:
        other = session.scalar(
            select(FirmObservation.submission_id).where(
                FirmObservation.firm_id == submission.firm_id, FirmObservation.round_id == submission.round_id
            )
        )
        counted = rows_of(session, [other])[0] if other is not None else None
    return Detail(
        row=found[0],
        processing_status=submission.processing_status,
        processed_at=submission.processed_at,
        versions=versions or 0,
        interview_start=observation.interview_start if observation else None,
        interview_end=observation.interview_end if observation else None,
        duration_seconds=observation.duration_seconds if observation else None,
        counted=counted,
        history=review.history(session, [pk])[pk],
    )


def review_submissions(
    session: Session, pks: Sequence[int], user_id: int, state: ReviewState, comment: str | None
) -> list[Submission]:
    """Review every submission named, or none if one is missing (deleted, or never existed)."""
    wanted = list(dict.fromkeys(pks))
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError("Your user account no longer exists.")
    found = {
        s.id: s
        for s in session.scalars(select(Submission).where(Submission.id.in_(wanted), Submission.deleted_at.is_(None)))
    }
    missing = [str(pk) for pk in wanted if pk not in found]
    if missing:
        raise NotFoundError(f"These submissions no longer exist: {', '.join(missing)}. Nothing was changed.")
    for pk in wanted:
        review.review(session, found[pk], user, state, comment)
    return [found[pk] for pk in wanted]
