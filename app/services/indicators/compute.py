"""Every indicator of a batch of (chain, round) pairs, from one consistent read of the database.

The per-firm facts of all the pairs are materialised once; each query then selects its rows for every pair, and
numpy sums them into every disaggregation and group (grouping.py); the emitters turn the sums into results.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.indicators.results import Results
from app.services.indicators import breakdowns
from app.services.indicators.context import Pair
from app.services.indicators.decision_level import emit_decision_level, panel_pair_sums, practice_sums
from app.services.indicators.facts import Batch, build_facts
from app.services.indicators.firm_level import emit_firm_level, firm_sums
from app.services.indicators.frame import load_frame
from app.services.indicators.sql import PairKey


@dataclass
class PairResults:
    results: Results
    firms: int
    decisions: int


def compute_batch(session: Session, pairs: Sequence[Pair]) -> dict[PairKey, PairResults]:
    batch = Batch({(p.chain_id, p.round.id): p for p in pairs})
    practice_ids = sorted({practice.id for p in pairs for practice in p.practices})
    facts = build_facts(session, batch)
    try:
        frame = load_frame(session, facts.facts)
        firms = firm_sums(session, frame)
        per_practice = practice_sums(session, frame, practice_ids)
        panel_pairs = panel_pair_sums(session, frame, practice_ids)
        extra = breakdowns.query_all(session, frame, practice_ids)
    finally:
        facts.drop(session)
    out: dict[PairKey, PairResults] = {}
    for key, pair in batch.pairs.items():
        results = Results()
        by_group = firms.get(key, {})
        overall = by_group.get(("overall", "all"))
        n_firms = overall["one"][0].n if overall else 0
        if n_firms == 0:
            out[key] = PairResults(results, 0, 0)
            continue
        practices = per_practice.get(key, {})
        n_decisions = sum(v["applied"][1].n for (group, _), v in practices.items() if group == ("overall", "all"))
        emit_firm_level(pair, by_group, results)
        emit_decision_level(pair, practices, panel_pairs.get(key, {}) if pair.previous else {}, by_group, results)
        breakdowns.emit(pair, extra.get(key, breakdowns.PairBreakdowns()), results)
        out[key] = PairResults(results, n_firms, n_decisions)
    return out
