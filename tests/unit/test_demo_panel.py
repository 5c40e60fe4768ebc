"""The synthetic panel generator, pure: determinism, the form it fills, domain.md §5.2's parameters, the true effect.

Every figure here is computed from the generator's own dataclasses (or its XML), not from server code.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import cache
from itertools import pairwise
from statistics import fmean, variance
from typing import Any

import pytest
from defusedxml import ElementTree

from app.demo import (
    ChainSpec,
    FormSpec,
    GeneratedChain,
    GeneratedPanel,
    Interview,
    PanelError,
    PanelParams,
    ReasonSpec,
    choose_chains,
    generate_panel,
    instance_xml,
    predicted_roster,
    read_roster,
)
from app.demo.setup import planned_rounds, specs_from_catalogue
from app.ingest.catalogue import read_catalogue
from app.ingest.mapping import extract, read_mapping
from app.ingest.xlsform import convert_xlsform
from app.ingest.xmltree import XNode, parse
from app.schemas.record import load_record
from tests.conftest import ROOT

FORM = FormSpec("mse_survey", "2026113001")
APPLIED = {"adopted", "tried"}


@cache
def _catalogue() -> tuple[list[ChainSpec], list[ReasonSpec]]:
    return specs_from_catalogue(read_catalogue((ROOT / "forms" / "catalogue.yaml").read_text()))


def make(
    *, chains: int = 9, firms: int = 300, spread: float = 0.15, effect: float = 0.2, seed: int = 1, rounds: int = 3
) -> GeneratedPanel:
    specs, reasons = _catalogue()
    params = PanelParams(chains=chains, firms=firms, spread=spread, effect=effect, seed=seed)
    return generate_panel(specs, reasons, [p.spec() for p in planned_rounds(rounds)], FORM, params)


@cache
def moderate() -> GeneratedPanel:
    return make(chains=9, firms=200, seed=11)


def _xml(panel: GeneratedPanel) -> list[bytes]:
    roster = predicted_roster(panel)
    return [
        instance_xml(i, panel.form, None if i.round.number == 0 else roster[(i.firm.chain, i.firm.name)])
        for i in panel.all_interviews()
    ]


def test_the_same_seed_gives_the_same_panel_to_the_byte() -> None:
    first, again, other = (
        make(chains=2, firms=20, seed=4),
        make(chains=2, firms=20, seed=4),
        make(chains=2, firms=20, seed=5),
    )
    assert _xml(first) == _xml(again)
    assert first.true_did_net_income == again.true_did_net_income
    assert _xml(first) != _xml(other)
    assert len({i.instance_id for i in first.all_interviews()}) == len(first.all_interviews())


def _paths(node: XNode, prefix: str = "") -> set[str]:
    path = f"{prefix}/{node.tag}"
    return {path}.union(*(_paths(child, path) for child in node.children))


@cache
def _form() -> tuple[set[str], dict[str, Any]]:
    xform = convert_xlsform((ROOT / "forms" / "mse_survey.xlsx").read_bytes(), "mse_survey.xlsx").xform
    html = parse(xform)
    model = html.find("head/model")[0]
    primary = next(c for c in model.children if c.tag == "instance" and "id" not in c.attrs).children[0]
    return _paths(primary), read_mapping(html, primary.tag)


def test_instances_fill_our_form_and_pass_its_rules() -> None:
    declared, mapping = _form()
    panel = make(chains=3, firms=25, seed=8)
    for interview, xml in zip(panel.all_interviews(), _xml(panel), strict=True):
        root = parse(xml)
        assert (root.attr("id"), root.attr("version")) == ("mse_survey", "2026113001")
        assert _paths(root) <= declared, _paths(root) - declared
        instance_id = root.find("meta/instanceID")[0].text
        assert re.fullmatch(r"uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", instance_id)
        record = load_record(extract(root, mapping).record, interview.end.year)  # the server's schemas
        assert record["interview"]["round"] == interview.round.code
        assert record["observation"]["net_income"] == interview.net_income
        assert sum(s["value"] for s in record["sale"]) == record["observation"]["sales_value"]
        assert [d["practice"] for d in record["decision"]] == [
            p.code for p in _chain(panel, interview).spec.ordered_practices()
        ]
        new = interview.round.number == 0
        assert (record["firm"]["panel_code"] is None) is new
        assert (record["firm"]["name"] == interview.firm.name) is new


def _chain(panel: GeneratedPanel, interview: Interview) -> GeneratedChain:
    return next(c for c in panel.chains if c.spec.code == interview.firm.chain)


def test_parameters_of_domain_md_hold_per_chain() -> None:
    panel = moderate()
    assert [r.deflator for r in panel.rounds] == [1.0, 0.95, 0.9]
    numbers = [r.number for r in panel.rounds]
    for chain in panel.chains:
        firms = chain.firms
        assert 170 <= len(firms) <= 230
        assert 0.55 <= sum(f.participant for f in firms) / len(firms) <= 0.65
        female = sum(f.owner_sex == "female" for f in firms) / len(firms)
        assert 0.70 <= female <= 0.90 if chain.spec.sector == "handicraft" else 0.20 <= female <= 0.45
        for number in numbers:
            interviews = [i for i in panel.interviews[number] if i.firm.chain == chain.spec.code]
            assert sum(1 <= i.workers_total <= 4 for i in interviews) / len(interviews) >= 0.85
        for before, after in pairwise(numbers):
            for group, low, high in ((True, 0.10, 0.14), (False, 0.15, 0.20)):
                was = [f for f in firms if f.participant is group and before in f.rounds]
                left = [f for f in was if after not in f.rounds]
                assert low - 0.01 <= len(left) / len(was) <= high + 0.01
    everyone = panel.firms
    assert all(f.rounds == sorted(f.rounds) and f.rounds[0] == 0 for f in everyone)  # attrition is for good


def _shares(interviews: list[Interview], kinds: set[str], practice_types: dict[str, str]) -> dict[str, float]:
    decisions = [d for i in interviews for d in i.decisions if practice_types[d.practice] in kinds]
    ever = [d for d in decisions if d.status in {*APPLIED, "abandoned"}]
    return {
        "applied": sum(d.status in APPLIED for d in decisions) / len(decisions),
        "abandoned": sum(d.status == "abandoned" for d in ever) / len(ever),
        "aware": sum(d.aware for d in decisions) / len(decisions),
    }


def test_upgrading_rates_follow_domain_md() -> None:
    panel = moderate()
    types = {p.code: p.type for c in panel.chains for p in c.spec.practices}
    endline, baseline = panel.interviews[2], panel.interviews[0]
    part = [i for i in endline if i.firm.participant]
    comp = [i for i in endline if not i.firm.participant]
    core, other = {"process", "product"}, {"functional", "channel"}
    assert 0.10 <= _shares(part, core, types)["applied"] <= 0.40
    assert 0.03 <= _shares(comp, core, types)["applied"] <= 0.15
    assert 0.03 <= _shares(part, other, types)["applied"] <= 0.15
    assert 0.10 <= _shares(part, core | other, types)["abandoned"] <= 0.25
    assert 0.50 <= _shares(part, core | other, types)["aware"] <= 0.90
    before = [_shares([i for i in baseline if i.firm.participant is g], core, types)["applied"] for g in (True, False)]
    assert abs(before[0] - before[1]) < 0.03  # the programme has not started at baseline
    for interview in panel.all_interviews():
        for d in interview.decisions:
            asked = not d.aware or d.status in {"not_adopted", "abandoned"}
            assert (d.main_reason is not None) is asked
            assert d.main_reason not in d.other_reasons
            assert (d.first_year is not None) is (d.status in {*APPLIED, "abandoned"})
            if d.status == "abandoned":
                assert d.first_year is not None and d.last_year is not None and d.first_year <= d.last_year
            if d.aware:
                assert all(1 <= s <= 5 for s in (d.benefit, d.cost, d.risk) if s is not None)


def test_participants_reach_higher_tier_markets_over_time() -> None:
    panel = moderate()
    top = {
        c.spec.code: {m.code for m in sorted(c.spec.end_markets, key=lambda m: m.tier)[len(c.spec.end_markets) // 2 :]}
        for c in panel.chains
    }

    def share(number: int, participant: bool) -> float:
        group = [i for i in panel.interviews[number] if i.firm.participant is participant]
        return sum(any(s.end_market in top[i.firm.chain] for s in i.sales) for i in group) / len(group)

    assert share(2, True) - share(0, True) > share(2, False) - share(0, False) + 0.05
    assert 0.02 < share(0, False) < 0.5


def _did(panel: GeneratedPanel, chain: str) -> tuple[float, float, float]:
    """(DiD of real net income endline - baseline, its Welch SE, the baseline mean), from the raw answers."""
    first, last = panel.rounds[0], panel.rounds[-1]

    def real(i: Interview) -> float:
        return (i.sales_value - i.input_cost - i.hired_labour_cost - i.other_costs) * i.round.deflator

    base = {i.firm.key: i for i in panel.interviews[first.number] if i.firm.chain == chain}
    end = {i.firm.key: i for i in panel.interviews[last.number] if i.firm.chain == chain}
    change: dict[bool, list[float]] = defaultdict(list)
    for key in base.keys() & end.keys():
        change[base[key].firm.participant].append(real(end[key]) - real(base[key]))
    did = fmean(change[True]) - fmean(change[False])
    se = (variance(change[True]) / len(change[True]) + variance(change[False]) / len(change[False])) ** 0.5
    return did, se, fmean(real(i) for i in base.values())


def test_the_true_effect_is_what_a_did_on_the_answers_finds() -> None:
    panel = make(chains=2, firms=1500, spread=0, effect=0.2, seed=21)
    for chain in panel.chains:
        did, se, baseline_mean = _did(panel, chain.spec.code)
        assert chain.true_did_net_income == pytest.approx(0.2 * baseline_mean)
        assert abs(did - chain.true_did_net_income) < max(3.5 * se, 0.0)
        assert abs(did - chain.true_did_net_income) < 0.3 * chain.true_did_net_income
        assert did > 4 * se  # the effect is there, not noise


def test_the_effect_moves_the_did_by_exactly_the_true_amount() -> None:
    """The same seed with and without the effect draws the same firms and shocks: the DiDs differ by the effect
    alone, in baseline prices after the server's deflation (up to rounding to whole currency units)."""
    with_effect, without = make(chains=3, firms=60, effect=0.25, seed=23), make(chains=3, firms=60, effect=0.0, seed=23)
    for chain in with_effect.chains:
        moved = _did(with_effect, chain.spec.code)[0] - _did(without, chain.spec.code)[0]
        assert moved == pytest.approx(chain.true_did_net_income, rel=0.002)
        assert chain.true_did_net_income == pytest.approx(0.25 * _did(without, chain.spec.code)[2])


def test_comparison_firms_grow_only_by_the_real_trend() -> None:
    """Deflation matters: nominal amounts rise with prices (1 / 0.9 by endline), real ones by ~3 % a year."""
    panel = moderate()
    comparison = [f for f in panel.firms if not f.participant and 2 in f.rounds]
    by_round = {n: {i.firm.key: i for i in panel.interviews[n]} for n in (0, 2)}
    real = [sum(by_round[n][f.key].net_income_real for f in comparison) for n in (0, 2)]
    nominal = [sum(by_round[n][f.key].net_income for f in comparison) for n in (0, 2)]
    assert 1.0 < real[1] / real[0] < 1.12
    assert nominal[1] / nominal[0] > real[1] / real[0] + 0.08


def test_no_effect_gives_no_did() -> None:
    panel = make(chains=2, firms=1000, spread=0, effect=0.0, seed=22)
    for chain in panel.chains:
        did, se, baseline_mean = _did(panel, chain.spec.code)
        assert chain.true_did_net_income == 0
        assert abs(did) < 3.5 * se and abs(did) < 0.06 * baseline_mean


def test_rounds_are_planned_with_deflation() -> None:
    three, two = planned_rounds(3), planned_rounds(2)
    assert [(r.code, r.number, r.kind) for r in three] == [
        ("R0", 0, "baseline"),
        ("R1", 1, "midline"),
        ("R2", 2, "endline"),
    ]
    assert [r.reference_end.year for r in three] == [2023, 2024, 2025]
    assert [r.reference_end.year for r in two] == [2023, 2025]  # 24 months from baseline to endline
    assert [r.deflator for r in three] == [1.0, 0.95, 0.9]
    with pytest.raises(ValueError, match="two rounds"):
        planned_rounds(1)


def test_small_panels_mix_sectors_and_bad_parameters_are_refused() -> None:
    chains, _ = _catalogue()
    assert {c.sector for c in choose_chains(chains, 2)} == {"agriculture", "handicraft"}
    assert len({c.code for c in choose_chains(chains, 9)}) == 9
    with pytest.raises(PanelError, match="10 chains"):
        choose_chains(chains, 10)
    with pytest.raises(PanelError, match="At least 10 firms"):
        make(chains=1, firms=5)
    reasons = _catalogue()[1]
    with pytest.raises(PanelError, match="follow-up"):
        generate_panel(chains, reasons, [planned_rounds(2)[0].spec()], FORM, PanelParams())


def test_the_roster_is_read_as_a_phone_reads_it() -> None:
    csv = (
        "name,label,chain,admin1,admin2,participant_status\n"
        "KE-AVO-00001,KE-AVO-00001 · Wanjiku Farm · Kandara,KE-AVO,Murang'a,Kandara,participant\n"
        "KE-AVO-00002,KE-AVO-00002 · Kamau Farm · Kigumo,KE-AVO,Murang'a,Kigumo,comparison\n"
        "KE-AVO-00003,KE-AVO-00003 · Kamau Farm · Limuru,KE-AVO,Kiambu,Limuru,comparison\n"
        "KE-MAN-00001,KE-MAN-00001 · Kamau Farm · Embu,KE-MAN,Embu,,unknown\n"
    ).encode()
    assert read_roster(csv) == {("KE-AVO", "Wanjiku Farm"): "KE-AVO-00001", ("KE-MAN", "Kamau Farm"): "KE-MAN-00001"}


def test_firm_names_are_unique_so_the_roster_finds_them() -> None:
    names = [f.name for f in moderate().firms]
    assert len(names) == len(set(names))
    assert not any(" · " in n for n in names)
    doc = ElementTree.fromstring(_xml(make(chains=1, firms=10, seed=1))[0])
    assert doc.findtext("firm/registration/firm_name")
