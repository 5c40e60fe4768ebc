"""The overview: every chain with its headline indicators, the latest round against baseline, and how fresh."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template, request

from app.dashboard.access import STAFF, guard
from app.db import transaction
from app.errors import InvalidError
from app.services.indicators import board
from app.services.indicators.board import Cell, Freshness, RoundInfo, View
from app.vocab import UpgradingType

bp = Blueprint("overview", __name__, url_prefix="/dashboard")
guard(bp, STAFF)

# (label, code, measure, subject): the headline rows of every chain card.
HEADLINES = (
    ("Any upgrading", "UPG-03", "share", ""),
    *((f"Adoption: {t.value}", "UPG-01", "share", t.value) for t in UpgradingType),
    ("Selling to higher-value markets", "UPG-14", "firm_share", ""),
)
DID = ("UPG-DID", "RET-03", "did", "net_income")
CODES = {"UPG-03", "UPG-01", "UPG-14", "RET-03"}


@dataclass(frozen=True)
class Headline:
    label: str
    latest: Cell | None
    baseline: Cell | None


@dataclass(frozen=True)
class ChainCard:
    code: str
    name: str
    product: str
    currency: str
    latest: RoundInfo | None
    baseline: RoundInfo | None
    fresh: Freshness | None
    headlines: list[Headline]
    did: Cell | None


@bp.route("/")
def index() -> tuple[str, int] | str:
    weighting = request.args.get("weighting", "weighted")
    try:
        board.check_weighting(weighting)
    except InvalidError as exc:
        return render_template("dashboard/overview.html", cards=[], weighting="weighted", error=exc.message), 400
    with transaction() as session:
        cards = []
        chains = board.chains(session)
        grids = board.read_grid(session, [c.id for c in chains], weighting, codes=CODES)
        for chain in chains:
            rounds = board.rounds_with_results(session, chain.id)
            latest, baseline = (rounds[-1], rounds[0]) if rounds else (None, None)
            grid = grids.get(chain.id, board.Grid())
            fresh = board.freshness(session, chain.id).get(latest.code) if latest else None
            cards.append(_card(chain.code, chain.name, chain.product, chain.currency, latest, baseline, fresh, grid))
    return render_template("dashboard/overview.html", cards=cards, weighting=weighting, error=None)


def _card(  # noqa: PLR0917 - one card's parts
    code: str,
    name: str,
    product: str,
    currency: str,
    latest: RoundInfo | None,
    baseline: RoundInfo | None,
    fresh: Freshness | None,
    grid: board.Grid,
) -> ChainCard:
    overall = View()
    headlines = [
        Headline(
            label,
            grid.get(c, m, s, latest.code, overall) if latest else None,
            grid.get(c, m, s, baseline.code, overall) if baseline and baseline != latest else None,
        )
        for label, c, m, s in HEADLINES
    ]
    did = grid.get(DID[1], DID[2], DID[3], latest.code, overall) if latest else None
    return ChainCard(code, name, product, currency, latest, baseline, fresh, headlines, did)
