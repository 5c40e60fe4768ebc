"""Extra data in the shared browser site: submissions that need review and duplicates, each posted through the real
OpenRosa endpoint by an enumerator of its own, so that each test finds its rows by enumerator and no test reads
what another changes. None of them derives rows (needs-review and duplicate submissions derive none), so the
indicators and every other page stay as ``load_demo`` left them.

Each is a demo follow-up interview copied with a new instanceID: as it is, it is a duplicate (its firm already
counts in its round); with an unknown panel code or round, it needs review.
"""

from __future__ import annotations

import re
import uuid

from flask import Flask
from sqlalchemy import select

from app.db import transaction
from app.models import Submission, SubmissionVersion, SurveyRound
from app.vocab import ProcessingStatus
from tests.helpers import Factory, MadeUser, submit

LISTED = "fw_listed"  # read only: a duplicate and two that need review
REVIEW_ONE = "fw_review_one"  # reviewed one at a time by the browser tests
REVIEW_BULK = "fw_review_bulk"  # reviewed in bulk by the browser tests
BULK_SIZE = 3
UNKNOWN_FIRM = "ZZ-99999"
UNKNOWN_ROUND = "R9"


def follow_ups(app: Flask, count: int) -> list[bytes]:
    """The XML of ``count`` mapped follow-up interviews (they name their firm by panel code)."""
    with app.app_context(), transaction() as session:
        stmt = (
            select(SubmissionVersion.xml)
            .join(Submission, Submission.current_version_id == SubmissionVersion.id)
            .join(SurveyRound, SurveyRound.id == Submission.round_id)
            .where(Submission.processing_status == ProcessingStatus.MAPPED, SurveyRound.number > 0)
            .order_by(Submission.id)
            .limit(count)
        )
        found = list(session.scalars(stmt))
    assert len(found) == count, "the demo panel has too few follow-up interviews"
    return found


def variant(xml: bytes, *, panel_code: str | None = None, round_code: str | None = None) -> bytes:
    """A copy of an instance with a new instanceID and, optionally, another panel code or round."""
    text = re.sub(rb"<instanceID>[^<]*</instanceID>", f"<instanceID>uuid:{uuid.uuid4()}</instanceID>".encode(), xml)
    text = re.sub(rb"<deprecatedID>[^<]*</deprecatedID>", b"", text)
    if panel_code is not None:
        text, n = re.subn(rb"<panel_code>[^<]*</panel_code>", f"<panel_code>{panel_code}</panel_code>".encode(), text)
        assert n == 1, "not a follow-up instance"
    if round_code is not None:
        text, n = re.subn(rb"<round>[^<]*</round>", f"<round>{round_code}</round>".encode(), text)
        assert n == 1
    return text


def post(app: Flask, user: MadeUser, xml: bytes) -> None:
    answer = submit(app.test_client(), user.prefix, xml)
    assert answer.status_code == 201, answer.get_data(as_text=True)


def seed_fieldwork(app: Flask) -> None:
    factory = Factory(app)
    listed, one, bulk = factory.user(LISTED), factory.user(REVIEW_ONE), factory.user(REVIEW_BULK)
    sources = follow_ups(app, 3 + BULK_SIZE)
    post(app, listed, variant(sources[0]))
    post(app, listed, variant(sources[1], panel_code=UNKNOWN_FIRM))
    post(app, listed, variant(sources[1], round_code=UNKNOWN_ROUND))
    post(app, one, variant(sources[2], panel_code=UNKNOWN_FIRM))
    for source in sources[3:]:
        post(app, bulk, variant(source, panel_code=UNKNOWN_FIRM))
