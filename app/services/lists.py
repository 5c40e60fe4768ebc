"""Choice lists the server generates from the catalogue and the panel, served as form media (docs/mapping.md).

They are built on request, ordered deterministically, so their MD5 changes exactly when their data change and
phones refresh them through the manifest.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.models import (
    ChainFunction,
    EndMarket,
    Firm,
    FirmRound,
    ReasonCode,
    SurveyRound,
    UpgradingPractice,
    ValueChain,
)
from app.vocab import RoundStatus, UpgradingType

LABEL = ["name", "label", "label_en", "label_fr"]


def _label(english: str, french: str) -> list[str]:
    return [english if english == french else f"{english} / {french}", english, french]


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def chains(session: Session) -> bytes:
    rows = session.scalars(select(ValueChain).order_by(ValueChain.code))
    return _csv([*LABEL, "sector"], ([c.code, *_label(c.name, c.name_fr), c.sector.value] for c in rows))


def functions(session: Session) -> bytes:
    rows = session.execute(
        select(ChainFunction, ValueChain.code)
        .join(ValueChain)
        .order_by(ValueChain.code, ChainFunction.value_added_rank, ChainFunction.code)
    )
    return _csv(
        [*LABEL, "chain", "rank"],
        ([f.code, *_label(f.name, f.name_fr), chain, f.value_added_rank] for f, chain in rows),
    )


def end_markets(session: Session) -> bytes:
    rows = session.execute(
        select(EndMarket, ValueChain.code).join(ValueChain).order_by(ValueChain.code, EndMarket.tier, EndMarket.code)
    )
    return _csv([*LABEL, "chain", "tier"], ([m.code, *_label(m.name, m.name_fr), chain, m.tier] for m, chain in rows))


def practices(session: Session) -> bytes:
    """Active practices, in interview order: by chain, then process, product, functional, channel."""
    order = list(UpgradingType)
    rows = sorted(
        session.execute(
            select(UpgradingPractice, ValueChain.code).join(ValueChain).where(UpgradingPractice.is_active.is_(True))
        ).all(),
        key=lambda row: (row[1], order.index(row[0].upgrading_type), row[0].code),
    )
    return _csv(
        [*LABEL, "chain", "type"],
        ([p.code, *_label(p.name, p.name_fr), chain, p.upgrading_type.value] for p, chain in rows),
    )


def reasons(session: Session) -> bytes:
    rows = session.scalars(select(ReasonCode).order_by(ReasonCode.category, ReasonCode.code))
    return _csv([*LABEL, "category"], ([r.code, *_label(r.label, r.label_fr), r.category.value] for r in rows))


def rounds(session: Session) -> bytes:
    rows = session.scalars(
        select(SurveyRound).where(SurveyRound.status == RoundStatus.OPEN).order_by(SurveyRound.number)
    )
    return _csv(["name", "label", "kind", "number"], ([r.code, r.name, r.kind.value, r.number] for r in rows))


def roster(session: Session) -> bytes:
    """Active firms with what an enumerator needs to find them; participation as of the latest round."""
    latest = {
        firm_id: status.value
        for firm_id, status in session.execute(
            select(FirmRound.firm_id, FirmRound.participant_status)
            .join(SurveyRound)
            .order_by(FirmRound.firm_id, SurveyRound.number)
        )
    }
    firms = session.scalars(
        select(Firm)
        .options(joinedload(Firm.value_chain), joinedload(Firm.contact))
        .where(Firm.is_active.is_(True))
        .order_by(Firm.panel_code)
    )
    rows = []
    for firm in firms:
        name = firm.contact.firm_name if firm.contact and firm.contact.firm_name else ""
        label = " · ".join(part for part in (firm.panel_code, name, firm.admin2 or firm.admin1 or "") if part)
        rows.append(
            [
                firm.panel_code,
                label,
                firm.value_chain.code,
                firm.admin1 or "",
                firm.admin2 or "",
                latest.get(firm.id, "unknown"),
            ]
        )
    return _csv(["name", "label", "chain", "admin1", "admin2", "participant_status"], rows)


GENERATORS: dict[str, Callable[[Session], bytes]] = {
    "chains.csv": chains,
    "functions.csv": functions,
    "end_markets.csv": end_markets,
    "practices.csv": practices,
    "reasons.csv": reasons,
    "rounds.csv": rounds,
    "roster.csv": roster,
}


def is_generated(name: str) -> bool:
    return name in GENERATORS


def generate(session: Session, name: str) -> bytes:
    return GENERATORS[name](session)
