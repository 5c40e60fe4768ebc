"""Reviewing submissions: approve, reject or flag issues, with a history of who did what and why.

A rejected submission's derived rows (observation, sales, decisions, and the firm-round link) stop counting:
they are removed, while the raw submission, its processing status and its errors stay as they were. Taking a
submission out of ``rejected`` again derives its rows anew, as processing would (it may then turn out to be a
duplicate, or to need review). Approving a submission that needs review creates no rows: its errors still stand.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.errors import ConflictError, InvalidError, NotFoundError
from app.models import Form, ReviewState, Submission, SubmissionReview, User
from app.services import audit, processing

REVIEW_STATES = (ReviewState.APPROVED, ReviewState.REJECTED, ReviewState.HAS_ISSUES)


class UnknownSubmissionsError(NotFoundError):
    def __init__(self, instance_ids: Sequence[str], form_id: str | None) -> None:
        where = f" in form '{form_id}'" if form_id else ""
        super().__init__(f"There is no submission{where} with the instance ID(s): {', '.join(instance_ids)}.")
        self.instance_ids = list(instance_ids)


def _form_pk(session: Session, form_id: str) -> int:
    pk = session.scalar(select(Form.id).where(Form.form_id == form_id))
    if pk is None:
        raise NotFoundError(f"There is no form '{form_id}'.")
    return pk


def find_submissions(session: Session, instance_ids: Sequence[str], form_id: str | None = None) -> list[Submission]:
    """The live submissions with these instance IDs, in the order asked; ``form_id`` settles IDs used by two forms.

    Raises UnknownSubmissionsError naming every ID not found, or ConflictError naming the ambiguous ones.
    """
    wanted = list(dict.fromkeys(instance_ids))
    stmt = select(Submission, Form.form_id).join(Form, Form.id == Submission.form_pk)
    stmt = stmt.where(Submission.instance_id.in_(wanted), Submission.deleted_at.is_(None))
    if form_id is not None:
        stmt = stmt.where(Submission.form_pk == _form_pk(session, form_id))
    found: dict[str, list[tuple[Submission, str]]] = {}
    for submission, owner in session.execute(stmt.order_by(Submission.id)):
        found.setdefault(submission.instance_id, []).append((submission, owner))
    missing = [i for i in wanted if i not in found]
    if missing:
        raise UnknownSubmissionsError(missing, form_id)
    ambiguous = {i: sorted(f for _, f in rows) for i, rows in found.items() if len(rows) > 1}
    if ambiguous:
        listed = "; ".join(f"{i} (forms {', '.join(forms)})" for i, forms in ambiguous.items())
        raise ConflictError(f"These instance IDs exist in more than one form; say which form: {listed}.")
    return [found[i][0][0] for i in wanted]


def find_submission(session: Session, instance_id: str, form_id: str | None = None) -> Submission:
    try:
        return find_submissions(session, [instance_id], form_id)[0]
    except UnknownSubmissionsError as exc:
        raise NotFoundError(exc.message) from exc


def review(
    session: Session, submission: Submission, user: User, state: ReviewState, comment: str | None = None
) -> SubmissionReview:
    """Set ``submission``'s review state and record the event in its history."""
    if state not in REVIEW_STATES:
        raise InvalidError(f"A review sets one of: {', '.join(s.value for s in REVIEW_STATES)}.")
    previous = submission.review_state
    event = SubmissionReview(submission_id=submission.id, user_id=user.id, state=state, comment=comment or None)
    event.user = user
    session.add(event)
    audit.record(
        session,
        "review",
        audit.Actor(user.id, user.username),
        target=submission.instance_id,
        detail={"state": state.value, "previous": previous.value if previous else None, "comment": comment or ""},
    )
    submission.review_state = state
    if state is ReviewState.REJECTED:
        processing.forget_rows(session, submission)
    elif previous is ReviewState.REJECTED:
        # Its rows were removed when it was rejected: derive them again (the fingerprint no longer describes rows).
        submission.derived_hash = None
        processing.process(session, submission)
    session.flush()
    return event


def review_many(
    session: Session,
    instance_ids: Sequence[str],
    user: User,
    state: ReviewState,
    *,
    comment: str | None = None,
    form_id: str | None = None,
) -> list[Submission]:
    """All or nothing: every ID must name one live submission before any is reviewed."""
    submissions = find_submissions(session, instance_ids, form_id)
    for submission in submissions:
        review(session, submission, user, state, comment)
    return submissions


def history(session: Session, submission_ids: Sequence[int]) -> dict[int, list[SubmissionReview]]:
    """The review events of these submissions, oldest first."""
    events: dict[int, list[SubmissionReview]] = {pk: [] for pk in submission_ids}
    stmt = (
        select(SubmissionReview)
        .options(joinedload(SubmissionReview.user))
        .where(SubmissionReview.submission_id.in_(submission_ids))
        .order_by(SubmissionReview.created_at, SubmissionReview.id)
    )
    for event in session.scalars(stmt):
        events[event.submission_id].append(event)
    return events
