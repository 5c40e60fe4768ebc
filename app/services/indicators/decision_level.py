"""Decision-level indicators: per practice and pooled by type, with the firm facts giving weights and groups.

UPG-04, UPG-07, UPG-10 per practice, UPG-08/09 (panel pairs), UPG-12.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict

from sqlalchemy import and_, func, literal, not_, or_
from sqlalchemy.orm import Session, aliased

from app.indicators.catalogue import WEIGHTINGS
from app.indicators.results import Results
from app.indicators.sums import Sums, mean, mean_difference, point, share
from app.models import UpgradingDecision
from app.services.indicators.context import Pair
from app.services.indicators.facts import ever_used, knows
from app.services.indicators.frame import Frame
from app.services.indicators.grouping import aggregate
from app.services.indicators.sql import (
    Expr,
    Group,
    PairKey,
    SumsByMetric,
    flags,
    small,
    when,
    yes,
)
from app.vocab import DecisionStatus

SCORES = ("benefit", "cost", "risk")
TOP_BOX = 4  # top-2 box of a 1-5 score: 4 or 5
PerPractice = dict[tuple[Group, int], SumsByMetric]


def _practice_metrics() -> dict[str, Expr]:
    d = UpgradingDecision
    applied = d.applied_in_period.is_(True)
    out: dict[str, Expr] = {
        "applied": yes(applied),
        "aware": yes(knows(d)),
        "abandoned": when(ever_used(d.status), yes(d.status == DecisionStatus.ABANDONED.value)),
    }
    either = or_(d.perceived_benefit.is_not(None), d.perceived_risk.is_not(None))
    for label, condition in (("applied", applied), ("not_applied", not_(applied))):
        out[f"scored:{label}"] = when(and_(condition, either), literal(1))  # n of net attractiveness
    for score in SCORES:
        column = getattr(d, f"perceived_{score}")
        for label, condition in (("applied", applied), ("not_applied", not_(applied))):
            out[f"{score}:{label}"] = when(condition, column)
            out[f"top2_{score}:{label}"] = when(and_(condition, column.is_not(None)), yes(column >= TOP_BOX))
    return out


def practice_sums(session: Session, frame: Frame, practice_ids: list[int]) -> dict[PairKey, PerPractice]:
    d = UpgradingDecision
    scores = [f"{score}:{label}" for score in SCORES for label in ("applied", "not_applied")]
    chosen = flags(
        small(_practice_metrics(), scores),
        [
            "applied",
            "aware",
            "abandoned",
            *(f"top2_{s}:{a}" for s in SCORES for a in ("applied", "not_applied")),
            *(f"scored:{a}" for a in ("applied", "not_applied")),
        ],
    )
    facts = frame.facts
    source = facts.join(d, d.observation_id == facts.c.observation_id)
    out: dict[PairKey, PerPractice] = defaultdict(dict)
    for cell in aggregate(
        session, frame, chosen, [d.practice_id], source=source, where=[d.practice_id.in_(practice_ids)]
    ):
        out[cell.pair][(cell.group, cell.keys[0])] = cell.sums
    return out


def panel_pair_sums(session: Session, frame: Frame, practice_ids: list[int]) -> dict[PairKey, PerPractice]:
    """(firm, practice) pairs of the previous round whose firm is eligible now: dis-adoption and trial conversion."""
    before, now = aliased(UpgradingDecision, name="before"), aliased(UpgradingDecision, name="now")
    chosen: dict[str, Expr] = {
        "disadopted": when(
            before.applied_in_period.is_(True), yes(not_(func.coalesce(now.applied_in_period, literal(False))))
        ),
        "converted": when(before.status == DecisionStatus.TRIED.value, yes(now.status == DecisionStatus.ADOPTED.value)),
    }
    facts = frame.facts
    source = facts.join(before, before.observation_id == facts.c.prev_observation_id).outerjoin(
        # one probe of the unique (firm, round, practice) index: a firm round has one observation
        now,
        and_(
            now.firm_id == facts.c.firm_id,
            now.round_id == facts.c.round_id,
            now.practice_id == before.practice_id,
        ),
    )
    chosen = flags(chosen, list(chosen))
    out: dict[PairKey, PerPractice] = defaultdict(dict)
    for cell in aggregate(
        session, frame, chosen, [before.practice_id], source=source, where=[before.practice_id.in_(practice_ids)]
    ):
        out[cell.pair][(cell.group, cell.keys[0])] = cell.sums
    return out


def _pool(per_practice: PerPractice, pair: Pair) -> dict[tuple[Group, str], SumsByMetric]:
    """Per practice (subject = practice code) and pooled by type (subject = the type)."""
    kinds = {p.id: p for p in pair.practices}
    pooled: dict[tuple[Group, str], SumsByMetric] = {}
    by_type: dict[tuple[Group, str], dict[str, list[Sums]]] = defaultdict(lambda: defaultdict(lambda: [Sums(), Sums()]))
    for (group, practice_id), data in per_practice.items():
        practice = kinds[practice_id]
        pooled[(group, practice.code)] = data
        target = by_type[(group, practice.type.value)]
        for metric, (weighted, unweighted) in data.items():
            target[metric][0] += weighted
            target[metric][1] += unweighted
    for key, metrics in by_type.items():
        pooled[key] = {m: (v[0], v[1]) for m, v in metrics.items()}
    return pooled


def emit_decision_level(
    pair: Pair,
    per_practice: PerPractice,
    panel_pairs: PerPractice,
    firms: dict[Group, SumsByMetric],
    out: Results,
) -> None:
    practice_codes = {p.code for p in pair.practices}
    zeros = {metric: (Sums(), Sums()) for metric in _practice_metrics()}
    for group in firms:  # a catalogue practice nobody answered still has an adoption share: 0
        for practice in pair.practices:
            per_practice.setdefault((group, practice.id), zeros)
    for (group, subject), data in _pool(per_practice, pair).items():
        firm_count = firms.get(group, {}).get("one")
        for i, weighting in enumerate(WEIGHTINGS):
            get = {m: v[i] for m, v in data.items()}
            if subject in practice_codes and firm_count is not None:
                denominator = firm_count[i]
                applied = share(get["applied"].swy, denominator)
                aware = share(get["aware"].swy, denominator)
                out.add("UPG-04", "share", subject, group, weighting, "share", applied)
                out.add("UPG-04", "count", subject, group, weighting, "firms", point(get["applied"].swy, denominator.n))
                out.add("UPG-10", "aware_share", subject, group, weighting, "share", aware)
                gap = None if aware.value is None or applied.value is None else aware.value - applied.value
                out.add("UPG-10", "gap", subject, group, weighting, "share", point(gap, denominator.n))
            abandoned = get["abandoned"]
            out.add("UPG-07", "share", subject, group, weighting, "share", share(abandoned.swy, abandoned))
            for score in SCORES:
                for label in ("applied", "not_applied"):
                    key = f"{subject}:{score}:{label}"
                    out.add("UPG-12", "mean", key, group, weighting, "score", mean(get[f"{score}:{label}"]))
                    top = get[f"top2_{score}:{label}"]
                    out.add("UPG-12", "top2_share", key, group, weighting, "share", share(top.swy, top))
            for label in ("applied", "not_applied"):
                net = mean_difference(get[f"benefit:{label}"], get[f"risk:{label}"])  # mean benefit - mean risk
                net = dataclasses.replace(net, n=get[f"scored:{label}"].n, n_eff=None)  # n: decisions scored
                out.add("UPG-12", "net_attractiveness", f"{subject}:{label}", group, weighting, "score", net)
    for (group, subject), data in _pool(panel_pairs, pair).items():
        for i, weighting in enumerate(WEIGHTINGS):
            for code, metric in (("UPG-08", "disadopted"), ("UPG-09", "converted")):
                s = data[metric][i]
                if s.n:
                    out.add(code, "share", subject, group, weighting, "share", share(s.swy, s))
