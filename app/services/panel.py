"""Firm-round design data that does not come from interviews: survey weights and participant status.

A weight or status change marks the (chain, round) results stale in the same transaction.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import InvalidError
from app.models import Firm, FirmRound, SurveyRound
from app.services.indicators.staleness import mark_stale
from app.vocab import ParticipantStatus

COLUMNS = ("panel_code", "round", "weight", "participant_status")


@dataclass(frozen=True)
class DesignRow:
    panel_code: str
    round_code: str
    weight: float | None
    participant_status: ParticipantStatus | None


def _positive(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value > 0 and value != float("inf") else None


def read_design_csv(text: str) -> list[DesignRow]:
    """Rows of a CSV with columns panel_code, round and weight and/or participant_status; errors name the line."""
    reader = csv.DictReader(io.StringIO(text))
    missing = {"panel_code", "round"} - set(reader.fieldnames or ())
    if missing or not {"weight", "participant_status"} & set(reader.fieldnames or ()):
        raise InvalidError("The CSV needs the columns panel_code, round and weight and/or participant_status.")
    rows, errors = [], []
    for line, raw in enumerate(reader, start=2):
        weight_text = (raw.get("weight") or "").strip()
        status_text = (raw.get("participant_status") or "").strip()
        weight = _positive(weight_text)
        if weight_text and weight is None:
            errors.append(f"line {line}: weight '{weight_text}' is not a positive number")
            continue
        if status_text and status_text not in {s.value for s in ParticipantStatus}:
            errors.append(
                f"line {line}: participant_status '{status_text}' is not one of participant, comparison, unknown"
            )
            continue
        status = ParticipantStatus(status_text) if status_text else None
        rows.append(DesignRow(raw["panel_code"].strip(), raw["round"].strip(), weight, status))
    if errors:
        raise InvalidError("; ".join(errors[:20]))
    return rows


def set_design(session: Session, rows: Iterable[DesignRow]) -> int:
    """Apply weights and statuses; all or nothing. Returns the number of firm-rounds changed."""
    rows = list(rows)
    firms = {
        f.panel_code: f for f in session.scalars(select(Firm).where(Firm.panel_code.in_({r.panel_code for r in rows})))
    }
    rounds = {
        r.code: r
        for r in session.scalars(select(SurveyRound).where(SurveyRound.code.in_({r.round_code for r in rows})))
    }
    unknown = sorted({r.panel_code for r in rows if r.panel_code not in firms}) + sorted(
        {f"round {r.round_code}" for r in rows if r.round_code not in rounds}
    )
    if unknown:
        raise InvalidError("Unknown: " + ", ".join(unknown[:20]))
    changed = 0
    for row in rows:
        firm, survey_round = firms[row.panel_code], rounds[row.round_code]
        target = session.scalar(
            select(FirmRound).where(FirmRound.firm_id == firm.id, FirmRound.round_id == survey_round.id)
        )
        if target is None:
            target = FirmRound(firm_id=firm.id, round_id=survey_round.id, round_weight=firm.base_weight)
            session.add(target)
        before = (target.round_weight, target.participant_status)
        if row.weight is not None:
            target.round_weight = row.weight
        if row.participant_status is not None:
            target.participant_status = row.participant_status
        if (target.round_weight, target.participant_status) != before:
            changed += 1
            mark_stale(session, firm.value_chain_id, survey_round.id, "panel")
    session.flush()
    return changed
