"""Firm-level indicators: one aggregate query over the firm facts of a pair gives every group's sums.

UPG-01/02/03/05/06, UPG-10 by type, UPG-14/15, UPG-16 position and rate, UPG-17, RET-01/02/03 (means).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import ColumnElement, and_, literal, or_
from sqlalchemy.orm import Session

from app.indicators.catalogue import CONTRASTS, WEIGHTINGS
from app.indicators.results import Results
from app.indicators.sums import mean, mean_difference, point, ratio, share, share_difference
from app.services.indicators.context import Pair
from app.services.indicators.facts import TYPES
from app.services.indicators.frame import Frame
from app.services.indicators.grouping import aggregate
from app.services.indicators.sql import Group, PairKey, SumsByMetric, flags, when, yes

OUTCOMES = ("sales", "net_income", "unit_price")
FLAG_METRICS = (
    "one",
    "app_any",
    *(f"{p}_{k.value}" for p in ("app", "sus", "aware") for k in TYPES),
    *(f"breadth_{b}" for b in range(5)),
    "multi_type",
    "high_any",
    "embedded_services",
    "written_contract",
    "two_or_more_buyers",
    "channel_up",
    "function_up",
)


def metrics(c: Any) -> dict[str, ColumnElement[Any]]:
    out: dict[str, ColumnElement[Any]] = {"one": literal(1), "app_any": yes(c.n_applied > 0)}
    breadth = sum((c[f"app_{k.value}"] for k in TYPES), literal(0))
    for k in TYPES:
        for prefix in ("app", "sus", "aware"):
            out[f"{prefix}_{k.value}"] = c[f"{prefix}_{k.value}"]
    out["n_applied"] = c.n_applied
    out["n_applied_pos"] = when(c.n_applied > 0, c.n_applied)
    out["breadth"] = breadth
    for value in range(5):
        out[f"breadth_{value}"] = yes(breadth == value)
    out["multi_type"] = yes(breadth >= 2)
    out["high_any"] = c.high_any
    out["value_high"] = when(c.value_all.is_not(None), c.value_high)
    out["value_all"] = c.value_all
    out["embedded_services"] = yes(or_(c.said_embedded == 1, c.any_embedded == 1))
    out["written_contract"] = yes(or_(c.said_contract == 1, c.any_contract == 1))
    out["two_or_more_buyers"] = when(c.number_of_buyers.is_not(None), yes(c.number_of_buyers >= 2))
    for y in OUTCOMES:
        out[f"{y}_app"] = when(c.n_applied > 0, c[y])
        out[f"{y}_none"] = when(c.n_applied == 0, c[y])
        for k in TYPES:
            out[f"{y}_app_{k.value}"] = when(c[f"app_{k.value}"] == 1, c[y])
    # panel metrics: NULL (not counted) where the firm has no interview in the earlier round
    had = c.prev_observation_id.is_not(None)
    out["channel_up"] = when(had, yes(c.top_tier > c.prev_top_tier))
    ranks = and_(had, c.top_rank.is_not(None), c.prev_top_rank.is_not(None))
    out["function_up"] = when(ranks, yes(c.top_rank > c.prev_top_rank))
    for y in OUTCOMES:
        change = c[y] - c[f"base_{y}"]
        out[f"d_{y}"] = change
        out[f"d_{y}_participant"] = when(c.participant_status == "participant", change)
        out[f"d_{y}_comparison"] = when(c.participant_status == "comparison", change)
        out[f"d_{y}_app"] = when(c.n_applied > 0, change)
        out[f"d_{y}_none"] = when(c.n_applied == 0, change)
    return out


def firm_sums(session: Session, frame: Frame) -> dict[PairKey, dict[Group, SumsByMetric]]:
    chosen = flags(metrics(frame.facts.c), FLAG_METRICS)
    out: dict[PairKey, dict[Group, SumsByMetric]] = defaultdict(dict)
    for cell in aggregate(session, frame, chosen):
        out[cell.pair][cell.group] = cell.sums
    return out


SHARES: tuple[tuple[str, str, str, str], ...] = (
    *(("UPG-01", "share", k.value, f"app_{k.value}") for k in TYPES),
    *(("UPG-02", "share", k.value, f"sus_{k.value}") for k in TYPES),
    ("UPG-03", "share", "", "app_any"),
    *(("UPG-06", "share_at", str(b), f"breadth_{b}") for b in range(5)),
    ("UPG-06", "multi_type_share", "", "multi_type"),
    *(("UPG-10", "aware_share", k.value, f"aware_{k.value}") for k in TYPES),
    ("UPG-14", "firm_share", "", "high_any"),
    ("UPG-15", "share", "", "channel_up"),
    ("UPG-16", "upgrading_rate", "", "function_up"),
    *(("UPG-17", "share", name, name) for name in ("embedded_services", "written_contract", "two_or_more_buyers")),
)


def emit_firm_level(pair: Pair, sums: dict[Group, SumsByMetric], out: Results) -> None:
    panel = {"channel_up", "function_up"}
    shares = [spec for spec in SHARES if pair.previous is not None or spec[3] not in panel]
    for group, data in sums.items():
        for weighting_index, weighting in enumerate(WEIGHTINGS):
            get = {name: pair_[weighting_index] for name, pair_ in data.items()}
            for code, measure, subject, metric in shares:
                if metric in get:
                    s = get[metric]
                    out.add(code, measure, subject, group, weighting, "share", share(s.swy, s))
            _emit_means(pair, get, group, weighting, out)
    _emit_contrasts(sums, shares, out)


def _emit_means(pair: Pair, get: dict[str, Any], group: Group, weighting: str, out: Results) -> None:
    out.add("UPG-05", "mean", "", group, weighting, "practices", mean(get["n_applied"]))
    out.add("UPG-05", "mean_among_appliers", "", group, weighting, "practices", mean(get["n_applied_pos"]))
    if pair.catalogue_size:
        out.add("UPG-05", "index", "", group, weighting, "share", mean(get["n_applied"], 1 / pair.catalogue_size))
    out.add("UPG-06", "mean", "", group, weighting, "types", mean(get["breadth"]))
    value_all = get["value_all"]
    out.add(
        "UPG-14", "value_share", "", group, weighting, "share", ratio(get["value_high"].swy, value_all.swy, value_all.n)
    )
    for k in TYPES:
        aware, applied = get[f"aware_{k.value}"], get[f"app_{k.value}"]
        gap = aware.mean - applied.mean if aware.sw > 0 else None
        out.add("UPG-10", "gap", k.value, group, weighting, "share", point(gap, aware.n))
    for y in OUTCOMES:
        out.add(
            "RET-01",
            "difference",
            f"{y}:any",
            group,
            weighting,
            "currency",
            mean_difference(get[f"{y}_app"], get[f"{y}_none"]),
        )
        for k in TYPES:
            gap_k = mean_difference(get[f"{y}_app_{k.value}"], get[f"{y}_none"])
            out.add("RET-01", "difference", f"{y}:{k.value}", group, weighting, "currency", gap_k)
        if pair.baseline is not None:
            out.add("RET-02", "mean", y, group, weighting, "currency", mean(get[f"d_{y}"]))
            did = mean_difference(get[f"d_{y}_participant"], get[f"d_{y}_comparison"])
            out.add("RET-03", "did", y, group, weighting, "currency", did)
            associational = mean_difference(get[f"d_{y}_app"], get[f"d_{y}_none"])
            out.add("RET-03", "did_associational", y, group, weighting, "currency", associational)


def _emit_contrasts(
    sums: dict[Group, SumsByMetric],
    shares: list[tuple[str, str, str, str]],
    out: Results,
) -> None:
    """Group differences of every firm share (female - male, participant - comparison, urban - rural): Newcombe."""
    for dim, (first, second) in CONTRASTS.items():
        a, b = sums.get((dim, first)), sums.get((dim, second))
        if a is None or b is None:
            continue
        for weighting_index, weighting in enumerate(WEIGHTINGS):
            for code, measure, subject, metric in shares:
                if measure not in {"share", "firm_share", "upgrading_rate", "multi_type_share"} or metric not in a:
                    continue
                sa_, sb_ = a[metric][weighting_index], b[metric][weighting_index]
                estimate = share_difference((sa_.swy, sa_), (sb_.swy, sb_))
                label = subject if measure == "share" else f"{measure}{':' + subject if subject else ''}"
                out.add(code, "difference", label, (dim, f"{first}-{second}"), weighting, "share", estimate)
