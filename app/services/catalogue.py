"""Loading the catalogue: an idempotent upsert by code. Nothing is deleted; retire a practice with active: false."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import Base
from app.models import ChainFunction, EndMarket, ReasonCode, UpgradingPractice, ValueChain
from app.services.indicators.staleness import mark_chain

M = TypeVar("M", bound=Base)


@dataclass
class LoadReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, created: bool) -> None:
        target = self.created if created else self.updated
        target[kind] = target.get(kind, 0) + 1

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def _apply(row: Base, values: Mapping[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _upsert(
    session: Session, report: LoadReport, model: type[M], key: Mapping[str, Any], values: Mapping[str, Any]
) -> M:
    stmt = select(model).filter_by(**key)
    row = session.scalar(stmt)
    if row is None:
        row = model(**key, **values)
        session.add(row)
        session.flush()
        report.count(model.__tablename__, created=True)
    elif _apply(row, values):
        report.count(model.__tablename__, created=False)
    return row


def load_catalogue(session: Session, data: Mapping[str, Any]) -> LoadReport:
    report = LoadReport()
    for reason in data["reasons"]:
        _upsert(
            session,
            report,
            ReasonCode,
            {"code": reason["code"]},
            {"label": reason["label"], "label_fr": reason["label_fr"], "category": reason["category"]},
        )
    reasons_changed = report.changed
    for chain in data["chains"]:
        before = sum(report.created.values()) + sum(report.updated.values())
        chain_id = _load_chain(session, report, chain)
        if reasons_changed or sum(report.created.values()) + sum(report.updated.values()) > before:
            mark_chain(session, chain_id, "catalogue")  # definitions changed: the chain's results are stale
    session.flush()
    return report


def _load_chain(session: Session, report: LoadReport, chain: Mapping[str, Any]) -> int:
    scalar_keys = (
        "name",
        "name_fr",
        "country_iso3",
        "product",
        "sector",
        "currency",
        "reference_period_months",
        "high_value_tier",
    )
    row = _upsert(
        session,
        report,
        ValueChain,
        {"code": chain["code"]},
        {
            **{k: chain[k] for k in scalar_keys},
            "is_illustrative": chain["illustrative"],
            "description": chain["description"].strip(),
            "sources": list(chain["sources"]),
        },
    )
    functions = {
        f["code"]: _upsert(
            session,
            report,
            ChainFunction,
            {"value_chain_id": row.id, "code": f["code"]},
            {"name": f["name"], "name_fr": f["name_fr"], "value_added_rank": f["rank"]},
        )
        for f in chain["functions"]
    }
    markets = {
        m["code"]: _upsert(
            session,
            report,
            EndMarket,
            {"value_chain_id": row.id, "code": m["code"]},
            {"name": m["name"], "name_fr": m["name_fr"], "tier": m["tier"], "is_export": m["export"]},
        )
        for m in chain["end_markets"]
    }
    for p in chain["practices"]:
        target_function = functions[p["target_function"]] if p["target_function"] else None
        target_market = markets[p["target_end_market"]] if p["target_end_market"] else None
        _upsert(
            session,
            report,
            UpgradingPractice,
            {"value_chain_id": row.id, "code": p["code"]},
            {
                "name": p["name"],
                "name_fr": p["name_fr"],
                "description": p["description"].strip(),
                "upgrading_type": p["type"],
                "target_function_id": target_function.id if target_function else None,
                "target_end_market_id": target_market.id if target_market else None,
                "promoted_by_program": p["promoted"],
                "is_active": p["active"],
                "source": p["source"],
            },
        )
    return row.id
