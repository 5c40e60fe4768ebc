"""What a chain page labels its results with: the chain's practices, functions, end markets, reason labels, and the
groups its results exist for. Small catalogue reads, one query each."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ChainFunction, EndMarket, IndicatorResult, ReasonCode, UpgradingPractice


def result_groups(session: Session, chain_id: int, weighting: str) -> dict[str, set[str]]:
    """Per disaggregation, the groups with an any-upgrading result (UPG-03): the groups a page can show."""
    r = IndicatorResult
    stmt = (
        select(r.disaggregation, r.group_value)
        .where(r.value_chain_id == chain_id, r.weighting == weighting, r.code == "UPG-03", r.measure == "share")
        .distinct()
    )
    found: dict[str, set[str]] = {}
    for disaggregation, group in session.execute(stmt):
        found.setdefault(disaggregation, set()).add(group)
    return found


def practices(session: Session, chain_id: int) -> list[tuple[str, str, str]]:
    """(code, name, upgrading type) of the chain's practices, by type then code."""
    p = UpgradingPractice
    stmt = (
        select(p.code, p.name, p.upgrading_type).where(p.value_chain_id == chain_id).order_by(p.upgrading_type, p.code)
    )
    return [(code, name, kind.value) for code, name, kind in session.execute(stmt)]


def reason_labels(session: Session) -> dict[str, str]:
    return dict(session.execute(select(ReasonCode.code, ReasonCode.label)).tuples().all())


def functions(session: Session, chain_id: int) -> list[tuple[str, str]]:
    """(code, name) of the chain's functions, by value-added rank."""
    f = ChainFunction
    stmt = select(f.code, f.name).where(f.value_chain_id == chain_id).order_by(f.value_added_rank)
    return [(code, name) for code, name in session.execute(stmt)]


def end_markets_by_tier(session: Session, chain_id: int) -> dict[int, list[str]]:
    m = EndMarket
    stmt = select(m.tier, m.name).where(m.value_chain_id == chain_id).order_by(m.tier, m.name)
    names: dict[int, list[str]] = {}
    for tier, name in session.execute(stmt):
        names.setdefault(tier, []).append(name)
    return names
