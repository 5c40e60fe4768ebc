"""Submissions as stored and processed: a filtered list, one submission with its versions, errors and review
history, and review actions (one, or many in one transaction).

Submissions are named by the instance ID they were first received with; instance IDs are unique per form, so
``form`` is needed only for an ID that two forms share (otherwise such a request is a 409).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session

from app.api.v1.auth import current_user, require_staff, staff_only
from app.api.v1.pagination import fetch_page
from app.api.v1.problems import fail, known
from app.db import transaction
from app.models import (
    Attachment,
    Firm,
    Form,
    FormVersion,
    ReviewState,
    Submission,
    SubmissionVersion,
    SurveyRound,
    User,
)
from app.schemas.api import (
    BulkReviewIn,
    FormArgs,
    ReviewIn,
    SubmissionArgs,
    SubmissionDetailOut,
    SubmissionListOut,
    SubmissionPageOut,
)
from app.services import review
from app.vocab import ProcessingStatus

TAG = "submissions"

blp = Blueprint("submissions", __name__, url_prefix="/submissions", description="Stored submissions and their review.")
blp.before_request(require_staff)


def _summary_query() -> Select[*tuple[Any, ...]]:
    return (
        select(
            Submission.id,
            Submission.instance_id,
            Form.form_id,
            FormVersion.version,
            User.username,
            Submission.created_at,
            Submission.updated_at,
            Submission.review_state,
            Submission.processing_status,
            Firm.panel_code,
            SurveyRound.code,
            Submission.processing_errors,
        )
        .join(Form, Form.id == Submission.form_pk)
        .outerjoin(SubmissionVersion, SubmissionVersion.id == Submission.current_version_id)
        .outerjoin(FormVersion, FormVersion.id == SubmissionVersion.form_version_id)
        .outerjoin(User, User.id == Submission.submitter_id)
        .outerjoin(Firm, Firm.id == Submission.firm_id)
        .outerjoin(SurveyRound, SurveyRound.id == Submission.round_id)
        .where(Submission.deleted_at.is_(None))
    )


def _summary(row: Row[*tuple[Any, ...]]) -> dict[str, Any]:
    (_, instance_id, form_id, version, submitter, created, updated, review_state, status, firm, round_code, errors) = (
        row
    )
    return {
        "instance_id": instance_id,
        "form_id": form_id,
        "form_version": version,
        "submitter": submitter,
        "received_at": created,
        "updated_at": updated,
        "review_state": review_state,
        "processing_status": status,
        "firm": firm,
        "round": round_code,
        "error_count": len(errors or []),
    }


def _summaries(session: Session, submission_ids: Sequence[int]) -> list[dict[str, Any]]:
    rows = {row[0]: row for row in session.execute(_summary_query().where(Submission.id.in_(submission_ids)))}
    return [_summary(rows[pk]) for pk in submission_ids]


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


@blp.route("", tags=[TAG])
class Submissions(MethodView):
    @staff_only
    @blp.arguments(SubmissionArgs, location="query")
    @blp.response(200, SubmissionPageOut)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List submissions, in the order received, a page at a time"""
        with transaction() as session:
            stmt = _summary_query()
            if "status" in args:
                stmt = stmt.where(Submission.processing_status == ProcessingStatus(args["status"]))
            if "review_state" in args:
                stmt = stmt.where(Submission.review_state == ReviewState(args["review_state"]))
            if "form" in args:
                form_pk = session.scalar(select(Form.id).where(Form.form_id == args["form"]))
                stmt = stmt.where(Submission.form_pk == known(form_pk, "form", f"There is no form '{args['form']}'."))
            if "enumerator" in args:
                user_id = session.scalar(select(User.id).where(User.username == args["enumerator"]))
                message = f"There is no user '{args['enumerator']}'."
                stmt = stmt.where(Submission.submitter_id == known(user_id, "enumerator", message))
            if "received_from" in args:
                stmt = stmt.where(Submission.created_at >= _day_start(args["received_from"]))
            if "received_to" in args:
                stmt = stmt.where(Submission.created_at < _day_start(args["received_to"] + dt.timedelta(days=1)))
            page = fetch_page(session, stmt, Submission.id, args, lambda row: row[0])
            return {"items": [_summary(row) for row in page.rows], "next_cursor": page.next_cursor}


@blp.route("/<instance_id>", tags=[TAG])
class SubmissionDetail(MethodView):
    @staff_only
    @blp.arguments(FormArgs, location="query")
    @blp.response(200, SubmissionDetailOut)
    def get(self, args: dict[str, Any], instance_id: str) -> dict[str, Any]:
        """One submission: its processing errors, versions, attachments and review history"""
        with transaction() as session:
            submission = review.find_submission(session, instance_id, args.get("form"))
            return _detail(session, submission)


@blp.route("/<instance_id>/review", tags=[TAG])
class ReviewOne(MethodView):
    @staff_only
    @blp.arguments(FormArgs, location="query")
    @blp.arguments(ReviewIn)
    @blp.response(200, SubmissionDetailOut)
    def post(self, args: dict[str, Any], body: dict[str, Any], instance_id: str) -> dict[str, Any]:
        """Review one submission: approve, reject or flag issues (rejecting takes its rows out of the panel)"""
        with transaction(write=True) as session:
            submission = review.find_submission(session, instance_id, args.get("form"))
            review.review(session, submission, current_user(), ReviewState(body["state"]), body["comment"])
            return _detail(session, submission)


@blp.route("/review", tags=[TAG])
class BulkReview(MethodView):
    @staff_only
    @blp.arguments(BulkReviewIn)
    @blp.response(200, SubmissionListOut)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Review many submissions at once: all of them or, if any ID is unknown, none"""
        with transaction(write=True) as session:
            try:
                submissions = review.review_many(
                    session,
                    body["instance_ids"],
                    current_user(),
                    ReviewState(body["state"]),
                    comment=body["comment"],
                    form_id=body["form"],
                )
            except review.UnknownSubmissionsError as exc:
                fail(404, exc.message, extra={"unknown_instance_ids": exc.instance_ids})
            return {"items": _summaries(session, [s.id for s in submissions])}


def _detail(session: Session, submission: Submission) -> dict[str, Any]:
    detail = _summaries(session, [submission.id])[0]
    detail["processed_at"] = submission.processed_at
    detail["processing_errors"] = [
        {"path": e.get("path", ""), "field": e.get("field", ""), "message": e.get("message", "")}
        for e in submission.processing_errors
    ]
    versions = session.execute(
        select(SubmissionVersion, FormVersion.version, User.username)
        .join(FormVersion, FormVersion.id == SubmissionVersion.form_version_id)
        .outerjoin(User, User.id == SubmissionVersion.submitter_id)
        .where(SubmissionVersion.submission_id == submission.id)
        .order_by(SubmissionVersion.id)
    )
    attachments: dict[int, list[dict[str, Any]]] = {}
    for attachment in session.scalars(
        select(Attachment)
        .join(SubmissionVersion, SubmissionVersion.id == Attachment.version_id)
        .where(SubmissionVersion.submission_id == submission.id)
        .order_by(Attachment.version_id, Attachment.name)
    ):
        attachments.setdefault(attachment.version_id, []).append(
            {
                "name": attachment.name,
                "present": attachment.sha256 is not None,
                "size": attachment.size,
                "content_type": attachment.content_type,
            }
        )
    detail["versions"] = [
        {
            "instance_id": version.instance_id,
            "deprecated_id": version.deprecated_id,
            "form_version": form_version,
            "submitter": submitter,
            "received_at": version.received_at,
            "current": version.id == submission.current_version_id,
            "attachments": attachments.get(version.id, []),
        }
        for version, form_version, submitter in versions
    ]
    detail["attachments"] = attachments.get(submission.current_version_id or 0, [])
    detail["reviews"] = [
        {"state": event.state, "comment": event.comment, "user": event.user.username, "created_at": event.created_at}
        for event in review.history(session, [submission.id])[submission.id]
    ]
    return detail
