"""What one chain page shows, read from the stored results: tables of cells and plotly figures (plain dicts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from app.errors import NotFoundError
from app.indicators.catalogue import DISAGGREGATIONS
from app.models import ValueChain
from app.services.indicators import board, chain_catalogue
from app.services.indicators.board import Cell, Grid, RoundInfo, View
from app.vocab import UpgradingType

TYPES = tuple(t.value for t in UpgradingType)
OUTCOMES = (("net_income", "Net income"), ("sales", "Sales"), ("unit_price", "Unit price"))
SCORES = ("benefit", "cost", "risk")
DISAGGREGATION_LABELS = {
    "owner_gender": "Owner's gender",
    "size_class": "Size class",
    "participant_status": "Participant status",
    "admin1": "Region",
    "urban_rural": "Location",
}
COLOURS = ("#2e6b3a", "#c2711b", "#3b6fb6", "#9a3b8f", "#6b6b6b", "#b3a21b", "#1b9aa3")


@dataclass(frozen=True)
class Practice:
    code: str
    name: str
    type: str
    adoption: Cell | None
    abandonment: Cell | None
    aware: Cell | None
    gap: Cell | None
    scores: dict[str, tuple[Cell | None, Cell | None]]  # benefit|cost|risk -> (appliers, others)


@dataclass
class ChainPage:
    chain: ValueChain
    rounds: list[RoundInfo]
    round: RoundInfo
    previous: RoundInfo | None
    view: View
    views: list[tuple[str, list[tuple[str, str]]]]  # (disaggregation label, [(view key, group label)])
    series_by: str  # the disaggregation whose groups the adoption chart compares
    series: list[str]
    grid: Grid
    practices: list[Practice] = field(default_factory=list)
    reasons: list[tuple[str, str, Cell | None, Cell | None]] = field(default_factory=list)
    categories: list[tuple[str, Cell | None]] = field(default_factory=list)
    functions: list[tuple[str, str, Cell | None]] = field(default_factory=list)
    markets: list[tuple[str, str, Cell | None, Cell | None]] = field(default_factory=list)  # tier, names, share, price
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)

    def at(self, code: str, measure: str, subject: str = "", round_code: str | None = None) -> Cell | None:
        return self.grid.get(code, measure, subject, round_code or self.round.code, self.view)

    def series_cell(self, type_: str, group: str, round_code: str) -> Cell | None:
        return self.grid.get("UPG-01", "share", type_, round_code, self.series_view(group))

    def series_view(self, group: str) -> View:
        return View() if self.series_by == "overall" else View(self.series_by, group)

    def transition(self, source: str, target: str) -> Cell | None:
        return self.at("UPG-16", "transition_share", f"{source}>{target}")


def available_views(session: Session, chain_id: int, weighting: str) -> list[tuple[str, list[tuple[str, str]]]]:
    found = chain_catalogue.result_groups(session, chain_id, weighting)
    out = [("All firms", [("overall", "All firms")])]
    for d in DISAGGREGATIONS:
        if d != "overall" and found.get(d):
            label = DISAGGREGATION_LABELS.get(d, d)
            out.append((label, [(View(d, g).key, f"{label}: {g}") for g in sorted(found[d])]))
    return out


def build(session: Session, chain: ValueChain, round_code: str | None, view: View, weighting: str) -> ChainPage:
    rounds = board.rounds_with_results(session, chain.id)
    if not rounds:
        raise NotFoundError(f"No indicators have been computed for the chain '{chain.code}' yet.")
    chosen = next((r for r in rounds if r.code == round_code), None) if round_code else rounds[-1]
    if chosen is None:
        raise NotFoundError(f"The chain '{chain.code}' has no indicators for the round '{round_code}'.")
    index = rounds.index(chosen)
    series_by = "participant_status" if view.disaggregation == "overall" else view.disaggregation
    disaggregations = {"overall", series_by, view.disaggregation}
    grid = board.read_grid(session, [chain.id], weighting, disaggregations=disaggregations).get(chain.id, Grid())
    series = grid.groups(series_by) if series_by != "overall" else ["all"]
    page = ChainPage(
        chain,
        rounds,
        chosen,
        rounds[index - 1] if index > 0 else None,
        view,
        available_views(session, chain.id, weighting),
        series_by,
        series,
        grid,
    )
    page.practices = _practices(session, page)
    page.categories = [
        (s, page.at("UPG-11", "category_share", s))
        for s in grid.subjects("UPG-11", "category_share", chosen.code, view)
    ]
    page.reasons = _reasons(session, page)
    page.functions = _functions(session, page)
    page.markets = _markets(session, page)
    page.figures = {
        **{f"adoption-{t}": _adoption_figure(page, t) for t in TYPES},
        "reasons": _bars(page, page.categories, "Main reason for not adopting, by category"),
        "markets": _bars(
            page, [(f"{tier}: {names}", share) for tier, names, share, _ in page.markets], "Sales value by end market"
        ),
        "returns": _returns_figure(page),
    }
    return page


def _practices(session: Session, page: ChainPage) -> list[Practice]:
    return [
        Practice(
            code,
            name,
            kind,
            page.at("UPG-04", "share", code),
            page.at("UPG-07", "share", code),
            page.at("UPG-10", "aware_share", code),
            page.at("UPG-10", "gap", code),
            {s: (_score(page, code, s, "applied"), _score(page, code, s, "not_applied")) for s in SCORES},
        )
        for code, name, kind in chain_catalogue.practices(session, page.chain.id)
    ]


def _score(page: ChainPage, practice: str, score: str, who: str) -> Cell | None:
    return page.at("UPG-12", "mean", f"{practice}:{score}:{who}")


def _reasons(session: Session, page: ChainPage) -> list[tuple[str, str, Cell | None, Cell | None]]:
    labels = chain_catalogue.reason_labels(session)
    subjects = page.grid.subjects("UPG-11", "main_share", page.round.code, page.view)
    rows = [
        (s, labels.get(s, s), page.at("UPG-11", "main_share", s), page.at("UPG-11", "mention_share", s))
        for s in subjects
    ]
    return sorted(rows, key=lambda row: -(row[2].value or 0) if row[2] and not row[2].suppressed else 1)


def _functions(session: Session, page: ChainPage) -> list[tuple[str, str, Cell | None]]:
    return [
        (code, name, page.at("UPG-16", "share", code))
        for code, name in chain_catalogue.functions(session, page.chain.id)
    ]


def _markets(session: Session, page: ChainPage) -> list[tuple[str, str, Cell | None, Cell | None]]:
    """Per end-market tier: the markets in it, its share of the sales value and its unit price (UPG-18)."""
    names = chain_catalogue.end_markets_by_tier(session, page.chain.id)
    return [
        (
            f"tier {tier}",
            ", ".join(markets),
            page.at("UPG-18", "value_share", f"tier {tier}"),
            page.at("UPG-18", "unit_price", f"tier {tier}"),
        )
        for tier, markets in names.items()
    ]


def _error_bars(cells: list[Cell | None]) -> dict[str, Any]:
    plus: list[float | None] = []
    minus: list[float | None] = []
    for c in cells:
        shown = c is not None and not c.suppressed
        value, low, high = (c.value, c.ci_low, c.ci_high) if c is not None and shown else (None, None, None)
        both = value is not None and low is not None and high is not None
        plus.append(high - value if both else None)  # type: ignore[operator]
        minus.append(value - low if both else None)  # type: ignore[operator]
    return {"type": "data", "symmetric": False, "array": plus, "arrayminus": minus}


def _values(cells: list[Cell | None]) -> list[float | None]:
    return [c.value if c is not None and not c.suppressed else None for c in cells]


def _layout(title: str, percent: bool) -> dict[str, Any]:
    return {
        "title": {"text": title, "font": {"size": 14}},
        "margin": {"l": 50, "r": 10, "t": 40, "b": 40},
        "yaxis": {"tickformat": ".0%" if percent else ",.0f", "rangemode": "tozero"},
        "legend": {"orientation": "h", "y": -0.2},
        "height": 300,
    }


def _adoption_figure(page: ChainPage, type_: str) -> dict[str, Any]:
    x = [r.code for r in page.rounds]
    traces = []
    for i, group in enumerate(page.series):
        cells = [page.series_cell(type_, group, r) for r in x]
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "All firms" if group == "all" else group,
                "x": x,
                "y": _values(cells),
                "error_y": _error_bars(cells),
                "line": {"color": COLOURS[i % len(COLOURS)]},
            }
        )
    return {"data": traces, "layout": _layout(f"{type_.capitalize()} upgrading: adoption rate", True)}


def _bars(page: ChainPage, rows: list[tuple[str, Cell | None]], title: str) -> dict[str, Any]:
    cells = [c for _, c in rows]
    trace = {
        "type": "bar",
        "orientation": "v",
        "x": [label for label, _ in rows],
        "y": _values(cells),
        "error_y": _error_bars(cells),
        "marker": {"color": COLOURS[0]},
        "name": page.round.code,
    }
    return {"data": [trace], "layout": _layout(title, True)}


def _returns_figure(page: ChainPage) -> dict[str, Any]:
    later = [r for r in page.rounds if r.number > page.rounds[0].number]
    traces = []
    for i, (measure, label) in enumerate(
        (("did", "Participants - comparison"), ("did_associational", "Appliers - non-appliers"))
    ):
        cells = [page.at("RET-03", measure, "net_income", r.code) for r in later]
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": label,
                "x": [r.code for r in later],
                "y": _values(cells),
                "error_y": _error_bars(cells),
                "marker": {"size": 10, "color": COLOURS[i]},
            }
        )
    layout = _layout(f"Net income: difference-in-differences ({page.chain.currency}, baseline prices)", False)
    layout["yaxis"]["rangemode"] = "normal"
    layout["shapes"] = [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": 0, "y1": 0, "line": {"dash": "dot"}}]
    return {"data": traces, "layout": layout}
