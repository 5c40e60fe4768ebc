"""`flask indicators ...`: recompute the stored indicators on demand and show how fresh they are."""

from __future__ import annotations

import time
from collections.abc import Callable

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app.cli.common import friendly_errors
from app.db import transaction
from app.errors import NotFoundError
from app.jobs import fanout
from app.models import SurveyRound, ValueChain
from app.services.indicators import status
from app.services.indicators.refresh import pairs_to_compute

indicators_cli = AppGroup("indicators", help="Value-chain upgrading indicators (../shared/docs/indicators.md).")


@indicators_cli.command("compute")
@click.option("--chain", "chain_code", help="Only this value chain (code, e.g. KE-AVO).")
@click.option("--round", "round_code", help="Only this survey round (code, e.g. R1).")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Processes computing chains side by side (default: one per CPU core, at most one per chain).",
)
@friendly_errors
def compute(chain_code: str | None, round_code: str | None, workers: int | None) -> None:
    """Recompute the indicators of every (chain, round) with data now, without waiting for the job worker.

    Each chain's pairs are read in one consistent snapshot and each pair is stored in one short transaction; the
    stale marks it reflects are consumed, so the worker does not recompute it again. Chains are computed in
    parallel processes. Safe to run while the server and worker run.
    """
    with transaction() as session:
        if chain_code and session.scalar(select(ValueChain.id).where(ValueChain.code == chain_code)) is None:
            raise NotFoundError(f"There is no value chain '{chain_code}'.")
        if round_code and session.scalar(select(SurveyRound.id).where(SurveyRound.code == round_code)) is None:
            raise NotFoundError(f"There is no survey round '{round_code}'.")
        pairs = pairs_to_compute(session, chain_code, round_code)
        names = status.pair_names(session)
    if not pairs:
        click.echo("Nothing to compute: no interviews have been mapped yet.")
        return
    started = time.perf_counter()
    chains = len({chain for chain, _ in pairs})
    count = fanout.workers_for(chains, workers)
    click.echo(f"Computing {len(pairs)} (chain, round) pairs of {chains} chains in {count} processes…")
    total = 0
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    done = fanout.recompute(app, pairs, count)
    with click.progressbar(done, length=chains, label="Chains", show_pos=True, item_show_func=_label(names)) as bar:
        for chain in bar:
            total += sum(results for _, results, _ in chain.pairs)
    elapsed = time.perf_counter() - started
    click.echo(f"{len(pairs)} (chain, round) pairs, {total} results in {elapsed:.1f} s.")


def _label(names: dict[tuple[int, int], str]) -> Callable[[fanout.ChainDone | None], str]:
    def label(chain: fanout.ChainDone | None) -> str:
        if chain is None or not chain.pairs:
            return ""
        return names.get((chain.chain_id, chain.pairs[0][0]), "").split(" ")[0]

    return label


@indicators_cli.command("status")
def show_status() -> None:
    """Per (chain, round): firms, results, when computed, watermark, stale marks waiting, last error."""
    with transaction() as session:
        rows = status.pair_status(session)
    if not rows:
        click.echo("No indicators yet.")
        return
    click.echo(f"{'chain':<10} {'round':<6} {'firms':>6} {'results':>8} {'computed (UTC)':<20} {'stale':>6}  error")
    for row in rows:
        computed = row["computed_at"].strftime("%Y-%m-%d %H:%M:%S") if row["computed_at"] else "never"
        click.echo(
            f"{row['chain']:<10} {row['round']:<6} {row['firms']:>6} {row['results']:>8} {computed:<20} "
            f"{row['pending_marks']:>6}  {row['last_error'] or ''}"
        )
