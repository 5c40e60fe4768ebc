"""Fieldwork monitoring: submissions per day and enumerator, the review queue, duplicates, odd durations, and
review actions (one submission or many), each recorded with who, when and why."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from app.dashboard.access import STAFF, guard, viewer
from app.db import transaction
from app.errors import DomainError, NotFoundError
from app.models import ReviewState
from app.services import fieldwork, fieldwork_checks, fieldwork_review
from app.services.fieldwork import BASES, Filters

bp = Blueprint("fieldwork", __name__, url_prefix="/dashboard/fieldwork")
guard(bp, STAFF)

ACTIONS = {
    ReviewState.APPROVED: "approved",
    ReviewState.REJECTED: "rejected",
    ReviewState.HAS_ISSUES: "marked as having issues",
}
MAX_COMMENT = 2000
MAX_BULK = 500


class BadInputError(ValueError):
    pass


def _date(args: MultiDict[str, str], name: str, label: str) -> dt.date | None:
    value = args.get(name, "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadInputError(f"{label} '{value}' is not a date (YYYY-MM-DD).") from None


def parse_filters(args: MultiDict[str, str]) -> Filters:
    basis = args.get("basis", "interview")
    if basis not in BASES:
        raise BadInputError(f"Count by must be one of: {', '.join(BASES)}.")
    return Filters(
        form=args.get("form") or None,
        round=args.get("round") or None,
        chain=args.get("chain") or None,
        enumerator=args.get("enumerator") or None,
        date_from=_date(args, "from", "From"),
        date_to=_date(args, "to", "To"),
        basis="received" if basis == "received" else "interview",
    )


@bp.route("/")
def index() -> tuple[str, int]:
    pending_only = request.args.get("queue", "pending") != "all"
    with transaction(snapshot=True) as session:
        choices = fieldwork.choices(session)
        try:
            filters = parse_filters(request.args)
            data: dict[str, Any] = {
                "activity": fieldwork.activity(session, filters),
                "queue": fieldwork_checks.needing_review(session, filters, pending_only=pending_only),
                "duplicates": fieldwork_checks.duplicates(session, filters),
                "registrations": fieldwork_checks.double_registrations(session, filters),
                "outliers": fieldwork_checks.duration_outliers(session, filters),
            }
        except (BadInputError, DomainError) as exc:
            message = exc.message if isinstance(exc, DomainError) else str(exc)
            page = render_template("dashboard/fieldwork.html", choices=choices, args=request.args, error=message)
            return page, 400
    return render_template(
        "dashboard/fieldwork.html",
        choices=choices,
        args=request.args,
        filters=filters,
        pending_only=pending_only,
        rule=_rule(),
        **data,
    ), 200


def _rule() -> dict[str, float]:
    return {"short": fieldwork_checks.SHORT, "long": fieldwork_checks.LONG, "min": fieldwork_checks.MIN_NORM}


@bp.route("/submissions/<int:pk>")
def submission(pk: int) -> str:
    with transaction() as session:
        try:
            found = fieldwork_review.detail(session, pk)
        except NotFoundError as exc:
            abort(404, description=exc.message)
        return render_template("dashboard/fieldwork_submission.html", d=found, actions=ACTIONS)


def _review_input() -> tuple[ReviewState, str | None]:
    chosen = {state.value: state for state in ACTIONS}.get(request.form.get("state", ""))
    if chosen is None:
        raise BadInputError("Choose an action: approve, reject or has issues.")
    comment = request.form.get("comment", "").strip() or None
    if comment is not None and len(comment) > MAX_COMMENT:
        raise BadInputError(f"A comment has at most {MAX_COMMENT} characters.")
    return chosen, comment


def _back(default: str) -> str:
    """Where to go after an action: the page it came from, if it is one of ours."""
    target = request.form.get("next", "")
    prefix = url_for("fieldwork.index")
    return target if target.startswith(prefix) and "//" not in target and "\\" not in target else default


@bp.post("/submissions/<int:pk>/review")
def review_one(pk: int) -> Response:
    return _act([pk], url_for("fieldwork.submission", pk=pk))


@bp.post("/review")
def review_many() -> Response:
    values = request.form.getlist("submission")
    if not all(v.isdigit() for v in values):
        flash("The selection was not understood; nothing was changed.", "error")
        return redirect(_back(url_for("fieldwork.index")))
    return _act([int(v) for v in values], url_for("fieldwork.index"))


def _act(pks: list[int], default: str) -> Response:
    back = _back(default)
    if not pks:
        flash("Select at least one submission; nothing was changed.", "error")
        return redirect(back)
    if len(pks) > MAX_BULK:
        flash(f"Review at most {MAX_BULK} submissions at once; nothing was changed.", "error")
        return redirect(back)
    try:
        state, comment = _review_input()
        with transaction(write=True) as session:
            done = fieldwork_review.review_submissions(session, pks, viewer().id, state, comment)
            names = [s.instance_id for s in done]
    except BadInputError as exc:
        flash(f"{exc} Nothing was changed.", "error")
        return redirect(back)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(back)
    what = names[0] if len(names) == 1 else f"{len(names)} submissions"
    flash(f"{what} {ACTIONS[state]}" + (f" with the comment “{comment}”." if comment else "."), "success")
    return redirect(back)
