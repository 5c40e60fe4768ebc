"""The generated panel's known effect of participation on real net income is recovered by RET-03's interval."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from app.db import transaction
from app.demo import PanelParams, generate_panel
from app.ingest.catalogue import read_catalogue
from app.models import IndicatorResult, SurveyRound, ValueChain
from app.services import demo, rounds
from app.services.catalogue import load_catalogue
from app.vocab import RoundKind
from tests.conftest import ROOT
from tests.helpers import Factory

PARAMS = {"chains": 1, "firms": 220, "rounds": 2, "seed": 2026}


def test_the_did_interval_covers_the_generators_true_effect(app: Flask, factory: Factory) -> None:
    with app.app_context(), transaction(write=True) as session:
        load_catalogue(session, read_catalogue((ROOT / "forms" / "catalogue.yaml").read_text()))
        rounds.create_round(session, "R0", 0, RoundKind.BASELINE, name="Baseline")
    factory.publish(ROOT / "forms" / "mse_survey.xlsx")
    args = [f"--{name}={value}" for name, value in PARAMS.items()]
    result = app.test_cli_runner().invoke(args=["demo", "generate", *args, "--spread=0", "--load"])
    assert result.exit_code == 0, result.output
    computed = app.test_cli_runner().invoke(args=["indicators", "compute"])
    assert computed.exit_code == 0, computed.output
    with app.app_context(), transaction() as session:
        chains, reasons = demo.catalogue(session)
        round_specs, _ = demo.ensure_rounds(session, PARAMS["rounds"], create=False)
        form = demo.form_spec(session, "mse_survey")
        params = PanelParams(chains=PARAMS["chains"], firms=PARAMS["firms"], seed=PARAMS["seed"], spread=0)
        panel = generate_panel(chains, reasons, round_specs, form, params)
        [chain] = panel.chains
        did = session.scalars(
            select(IndicatorResult)
            .join(ValueChain, ValueChain.id == IndicatorResult.value_chain_id)
            .join(SurveyRound, SurveyRound.id == IndicatorResult.round_id)
            .where(
                ValueChain.code == chain.spec.code,
                SurveyRound.number == 1,
                IndicatorResult.code == "RET-03",
                IndicatorResult.measure == "did",
                IndicatorResult.subject == "net_income",
                IndicatorResult.disaggregation == "overall",
                IndicatorResult.weighting == "unweighted",
            )
        ).one()
    truth = chain.true_did_net_income
    assert truth > 0
    assert did.ci_low is not None and did.ci_high is not None
    assert did.ci_low <= truth <= did.ci_high, (did.value, did.ci_low, did.ci_high, truth)
    assert did.n >= 150 and not did.suppressed  # the balanced panel after attrition
