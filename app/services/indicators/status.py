"""How fresh the stored indicators are, per (chain, round), and what the job workers did."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import IndicatorMark, IndicatorSet, JobRun, JobStatus, SurveyRound, ValueChain


def pair_names(session: Session) -> dict[tuple[int, int], str]:
    chains = dict(session.execute(select(ValueChain.id, ValueChain.code)).all())
    rounds = dict(session.execute(select(SurveyRound.id, SurveyRound.code)).all())
    return {(c, r): f"{chain} {code}" for c, chain in chains.items() for r, code in rounds.items()}


def pending_by_pair(session: Session) -> dict[tuple[int, int], tuple[int, Any]]:
    query = select(
        IndicatorMark.value_chain_id, IndicatorMark.round_id, func.count(), func.min(IndicatorMark.marked_at)
    ).group_by(IndicatorMark.value_chain_id, IndicatorMark.round_id)
    return {(c, r): (n, oldest) for c, r, n, oldest in session.execute(query)}


def pair_status(session: Session) -> list[dict[str, Any]]:
    waiting = pending_by_pair(session)
    chains = dict(session.execute(select(ValueChain.id, ValueChain.code)).all())
    rounds = {r.id: r for r in session.scalars(select(SurveyRound))}
    sets = {(s.value_chain_id, s.round_id): s for s in session.scalars(select(IndicatorSet))}
    out = []
    for key in sorted(set(sets) | set(waiting), key=lambda k: (chains.get(k[0], ""), rounds[k[1]].number)):
        s = sets.get(key)
        n, oldest = waiting.get(key, (0, None))
        out.append(
            {
                "chain": chains.get(key[0], "?"),
                "round": rounds[key[1]].code,
                "firms": s.firms if s else 0,
                "decisions": s.decisions if s else 0,
                "results": s.results if s else 0,
                "computed_at": s.computed_at if s else None,
                "duration_ms": s.duration_ms if s else None,
                "method_version": s.method_version if s else None,
                "watermark": s.watermark if s else 0,
                "data_as_of": s.data_as_of if s else None,
                "pending_marks": n,
                "stale_since": oldest,
                "stale": n > 0,
                "last_error": s.last_error if s else None,
                "last_error_at": s.last_error_at if s else None,
                "failures": s.failures if s else 0,
            }
        )
    return out


def job_runs(session: Session, status: JobStatus | None = None, limit: int = 100) -> list[JobRun]:
    query = select(JobRun).order_by(JobRun.id.desc()).limit(limit)
    if status is not None:
        query = query.where(JobRun.status == status)
    return list(session.scalars(query))
