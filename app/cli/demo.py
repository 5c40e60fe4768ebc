"""`flask demo generate`: a synthetic firm panel with a known effect, filed as ODK Collect would file it."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from pathlib import Path

import click
from flask.cli import AppGroup

from app.cli.common import friendly_errors
from app.cli.demo_sinks import LoadSink, OutSink, Sink, SubmitSink
from app.db import transaction, utcnow
from app.demo import (
    FormSpec,
    GeneratedPanel,
    PanelError,
    PanelParams,
    generate_panel,
    instance_file,
    instance_xml,
    predicted_roster,
)
from app.demo.client import OpenRosaClient, ServerError
from app.demo.instances import Roster
from app.services import demo

demo_cli = AppGroup("demo", help="A synthetic firm panel for demonstrations and tests.")
PROGRESS_EVERY = 500


@demo_cli.command("generate")
@click.option(
    "--chains", type=click.IntRange(min=1), default=9, show_default=True, help="Value chains, sectors taken in turn."
)
@click.option(
    "--firms",
    type=click.IntRange(min=1),
    default=300,
    show_default=True,
    help="Firms per chain at baseline (drawn ± spread).",
)
@click.option(
    "--spread", type=click.FloatRange(0, 0.9), default=0.15, show_default=True, help="0 = exactly --firms per chain."
)
@click.option(
    "--rounds",
    "round_count",
    type=click.IntRange(min=2),
    default=3,
    show_default=True,
    help="Baseline + follow-ups (≥ 2).",
)
@click.option("--seed", type=int, default=1, show_default=True, help="The same seed gives the same panel.")
@click.option(
    "--effect",
    type=float,
    default=0.2,
    show_default=True,
    help="True effect of participation on real net income at endline, as a share of the chain's baseline mean.",
)
@click.option("--load", is_flag=True, help="Store in this app's database through the submission service.")
@click.option("--submit", "url", help="POST to this OpenRosa server (root or …/key/<token> URL).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Write the XML files here.")
@click.option(
    "--user",
    default="demo",
    show_default=True,
    help="--load --one-user: files as (created if missing); --submit: Digest user.",
)
@click.option(
    "--team/--one-user",
    default=True,
    show_default=True,
    help="--load: file each interview under the enumerator it names (enumerator users created as needed), or all "
    "under --user.",
)
@click.option("--password-env", help="--submit: environment variable holding the user's password.")
@click.option(
    "--clients",
    type=click.IntRange(min=1, max=64),
    default=4,
    show_default=True,
    help="--submit: concurrent connections.",
)
@click.option("--form-id", default="mse_survey", show_default=True, help="The form the instances fill.")
@click.option("--if-missing", is_flag=True, help="Skip (and succeed) if a demo panel is already stored.")
@friendly_errors
def generate(  # noqa: PLR0917 - click passes every option
    chains: int,
    firms: int,
    spread: float,
    round_count: int,
    seed: int,
    effect: float,
    load: bool,
    url: str | None,
    out_dir: Path | None,
    user: str,
    team: bool,
    password_env: str | None,
    clients: int,
    form_id: str,
    if_missing: bool,
) -> None:
    """Generate a realistic panel from the loaded catalogue (../shared/docs/domain.md §5.2) and file it as filled
    instances of our MSE survey: --load stores them in-process through the same service and transaction per
    interview as the OpenRosa endpoint; --submit POSTs them to a server; --out writes them to a folder (with
    --load or --submit too). The baseline registers new firms; follow-ups name each firm by the panel code the
    server assigned, found by the firm's unique name in the form's roster.csv. Missing rounds (R1, R2, …) are
    created with reference periods and deflators (0.95, 0.90, …); existing ones are used as they are.

    A demo panel is stored only once: if the database (or, with --submit, the server's roster) already holds
    one, the command refuses, or with --if-missing skips and succeeds. --load also refuses a database with
    firms of real interviews. --out alone writes follow-ups with the panel codes a server with no firms would
    assign if the baseline files are submitted first, in file-name order, one at a time.

    Exit status 1 if any interview was not stored or not mapped.
    """
    if load and url:
        raise click.UsageError("Use --load or --submit, not both.")
    if not (load or url or out_dir):
        raise click.UsageError("Say where the panel goes: --load, --submit URL and/or --out DIR.")
    started, clock = utcnow(), time.monotonic()
    params = PanelParams(chains=chains, firms=firms, spread=spread, effect=effect, seed=seed)
    sink: Sink
    if url:
        form, sink = _submit_sink(url, user, password_env, clients, form_id)
    elif load:
        prepared = _load_sink(user, form_id, if_missing, team)
        if prepared is None:
            return
        form, sink = prepared
    else:
        with transaction() as session:
            form = demo.form_spec(session, form_id)
        sink = OutSink()
    with transaction(write=True) as session:
        chain_specs, reasons = demo.catalogue(session)
        round_specs, created = demo.ensure_rounds(session, round_count, create=bool(load or url))
    if created:
        click.echo(f"Created rounds {', '.join(created)}.")
    try:
        panel = generate_panel(chain_specs, reasons, round_specs, form, params)
    except PanelError as exc:
        raise click.ClickException(str(exc)) from exc
    sink.check(panel)
    if sink.already_filed(panel):
        _already("The server's roster already lists this panel's firms.", if_missing)
        return
    _describe(panel)
    problems = _file(panel, sink, out_dir)
    _summary(panel, sink, started, problems, time.monotonic() - clock)


def _submit_sink(
    url: str, user: str, password_env: str | None, clients: int, form_id: str
) -> tuple[FormSpec, SubmitSink]:
    password = os.environ.get(password_env) if password_env else None
    if password_env and not password:
        raise click.ClickException(f"The environment variable {password_env} is not set.")
    client = OpenRosaClient(url, user if password else None, password)
    try:
        form, media = client.form(form_id)
    except ServerError as exc:
        raise click.ClickException(str(exc)) from exc
    return form, SubmitSink(client, media, clients)


def _load_sink(user: str, form_id: str, if_missing: bool, team: bool) -> tuple[FormSpec, LoadSink] | None:
    with transaction(write=True) as session:
        form = demo.form_spec(session, form_id)
        present = demo.existing(session)
        if present.demo_submissions:
            _already(f"The database already holds a demo panel ({present.demo_submissions} interviews).", if_missing)
            return None
        if present.other_firms:
            raise click.ClickException(
                f"The database holds {present.other_firms} firms from real interviews; a synthetic panel is not "
                "mixed into them. Point DATABASE_URL at an empty database."
            )
        by, created = demo.actor(session, user)
    if created:
        click.echo(f"Created enumerator '{user}' for the demo interviews.")
    return form, LoadSink(by, team)


def _already(message: str, if_missing: bool) -> None:
    if not if_missing:
        raise click.ClickException(f"{message} Nothing was generated; use an empty database, or --if-missing.")
    click.echo(f"{message} Skipped.")


def _describe(panel: GeneratedPanel) -> None:
    p, codes = panel.params, ", ".join(r.code for r in panel.rounds)
    click.echo(
        f"Panel: {len(panel.chains)} chains, {len(panel.firms)} firms, rounds {codes}, "
        f"seed {p.seed}, effect {p.effect:+.0%} of baseline mean real net income; form {panel.form.form_id} "
        f"version {panel.form.version}."
    )


def _file(panel: GeneratedPanel, sink: Sink, out_dir: Path | None) -> int:
    """Store (or write) every interview, round by round; the number of interviews that could not be."""
    roster: Roster = predicted_roster(panel)
    problems = 0
    for survey_round in panel.rounds:
        batch: list[tuple[str, bytes]] = []
        for interview in panel.interviews[survey_round.number]:
            code = None
            if survey_round.number != panel.rounds[0].number:
                code = roster.get((interview.firm.chain, interview.firm.name))
                if code is None:
                    click.echo(f"  {interview.firm.name} ({interview.firm.chain}) is not on the roster: skipped.")
                    problems += 1
                    continue
            batch.append((instance_file(interview), instance_xml(interview, panel.form, code)))
        if out_dir is not None:
            for name, xml in batch:
                (out_dir / name).parent.mkdir(parents=True, exist_ok=True)
                (out_dir / name).write_bytes(xml)
        problems += sink.file(survey_round.code, batch, _progress(survey_round.code, len(batch)))
        if survey_round.number == panel.rounds[0].number:
            roster = sink.roster() or roster
    return problems


def _progress(code: str, total: int) -> Callable[[int], None]:
    def report(done: int) -> None:
        if done % PROGRESS_EVERY == 0 or done == total:
            click.echo(f"  {code}: {done}/{total} interviews")

    return report


def _summary(panel: GeneratedPanel, sink: Sink, started: dt.datetime, problems: int, seconds: float) -> None:
    participants = sum(f.participant for f in panel.firms)
    click.echo(
        f"Firms: {len(panel.firms)} ({participants} participants, {len(panel.firms) - participants} comparison)."
    )
    per_round = ", ".join(f"{r.code} {len(panel.interviews[r.number])}" for r in panel.rounds)
    click.echo(f"Interviews: {per_round}; {seconds:.0f} s.")
    click.echo("True DiD of real net income, endline - baseline, participants - comparison (baseline prices):")
    for chain in panel.chains:
        click.echo(f"  {chain.spec.code:<8} {chain.true_did_net_income:>14,.2f} {chain.spec.currency}")
    bad = problems + sink.report(started)
    if bad:
        raise click.ClickException(f"{bad} interviews were not stored or not mapped: a generator bug, see above.")
