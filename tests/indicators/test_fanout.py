"""`indicators compute` computes chains in parallel processes and stores exactly what one process stores."""

from __future__ import annotations

import os

from flask import Flask
from sqlalchemy import func, select

from app.db import transaction
from app.ingest.catalogue import read_catalogue
from app.jobs import fanout
from app.models import IndicatorMark, IndicatorResult, IndicatorSet
from app.services import rounds
from app.services.catalogue import load_catalogue
from app.services.indicators import refresh
from app.vocab import RoundKind
from tests.conftest import ROOT
from tests.helpers import Factory

CHAINS = 3


def _stored(app: Flask) -> dict[tuple[object, ...], tuple[object, ...]]:
    c = IndicatorResult
    keys = (c.value_chain_id, c.round_id, c.code, c.measure, c.subject, c.disaggregation, c.group_value, c.weighting)
    with app.app_context(), transaction() as session:
        rows = session.execute(select(*keys, c.value, c.ci_low, c.ci_high, c.n, c.n_eff, c.suppressed))
        return {tuple(row[:8]): tuple(row[8:]) for row in rows}


def test_chains_computed_in_parallel_processes_equal_one_process(app: Flask, factory: Factory) -> None:
    with app.app_context(), transaction(write=True) as session:
        load_catalogue(session, read_catalogue((ROOT / "forms" / "catalogue.yaml").read_text()))
        rounds.create_round(session, "R0", 0, RoundKind.BASELINE, name="Baseline")
    factory.publish(ROOT / "forms" / "mse_survey.xlsx")
    generated = app.test_cli_runner().invoke(
        args=["demo", "generate", f"--chains={CHAINS}", "--firms=25", "--rounds=2", "--seed=11", "--load"]
    )
    assert generated.exit_code == 0, generated.output
    with app.app_context(), transaction() as session:
        pairs = refresh.pairs_to_compute(session)
    assert len({chain for chain, _ in pairs}) == CHAINS

    done = list(fanout.recompute(app, pairs, workers=2))
    assert sorted(chain.chain_id for chain in done) == sorted({chain for chain, _ in pairs})
    assert all(chain.pid != os.getpid() for chain in done), "each chain ran in a worker process"
    assert all(stored and results > 0 for chain in done for _, results, stored in chain.pairs)
    parallel = _stored(app)
    with app.app_context(), transaction() as session:
        assert session.scalar(select(func.count()).select_from(IndicatorMark)) == 0
        assert session.scalar(select(func.count()).select_from(IndicatorSet)) == len(pairs)

    with app.app_context():  # one process, one snapshot for every pair: the reference
        with transaction(snapshot=True) as session:
            computed = refresh.read_pairs(session, pairs)
        for result in computed:
            with transaction(write=True) as session:
                refresh.store(session, result)
    assert _stored(app) == parallel
    assert len(parallel) == sum(len(result.rows) for result in computed)


def test_the_cli_reports_its_processes_and_every_result(app: Flask, factory: Factory) -> None:
    with app.app_context(), transaction(write=True) as session:
        load_catalogue(session, read_catalogue((ROOT / "forms" / "catalogue.yaml").read_text()))
        rounds.create_round(session, "R0", 0, RoundKind.BASELINE, name="Baseline")
    factory.publish(ROOT / "forms" / "mse_survey.xlsx")
    args = ["demo", "generate", "--chains=2", "--firms=12", "--rounds=2", "--seed=3", "--load"]
    assert app.test_cli_runner().invoke(args=args).exit_code == 0
    result = app.test_cli_runner().invoke(args=["indicators", "compute", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "in 2 processes" in result.output
    total = len(_stored(app))
    assert total > 0
    assert f"{total} results" in result.output
