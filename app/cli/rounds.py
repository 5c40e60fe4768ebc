"""`flask rounds ...`: the survey rounds that submissions are filed under."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import click
from flask.cli import AppGroup

from app.cli.common import friendly_errors
from app.db import transaction
from app.services import rounds
from app.vocab import RoundKind, RoundStatus

rounds_cli = AppGroup("rounds", help="Survey rounds (baseline = number 0, then follow-ups).")


@rounds_cli.command("create")
@click.argument("code")
@click.option("--number", type=int, required=True, help="0 for the baseline, then 1, 2, ...")
@click.option("--kind", type=click.Choice([k.value for k in RoundKind]), required=True)
@click.option("--name", help="Label shown to enumerators (default from kind and code).")
@click.option("--reference-start", type=click.DateTime(["%Y-%m-%d"]), help="Start of the reference period.")
@click.option("--reference-end", type=click.DateTime(["%Y-%m-%d"]), help="End of the reference period.")
@click.option("--deflator", type=Decimal, default=Decimal(1), show_default=True, help="Price deflator to baseline.")
@click.option("--currency", help="ISO 4217 code, if not each chain's own currency.")
@click.option("--if-missing", is_flag=True, help="Do nothing (and succeed) if the round already exists.")
@friendly_errors
def create(  # noqa: PLR0917 - click passes every option
    code: str,
    number: int,
    kind: str,
    name: str | None,
    reference_start: dt.datetime | None,
    reference_end: dt.datetime | None,
    deflator: Decimal,
    currency: str | None,
    if_missing: bool,
) -> None:
    """Create round CODE; it is open, so it appears in the forms' rounds.csv list."""
    if if_missing:
        with transaction() as session:
            if any(r.code == code for r in rounds.list_rounds(session)):
                click.echo(f"Round {code} exists.")
                return
    period = (reference_start.date(), reference_end.date()) if reference_start and reference_end else None
    with transaction(write=True) as session:
        created = rounds.create_round(
            session,
            code,
            number,
            RoundKind(kind),
            name=name,
            reference_period=period,
            deflator=deflator,
            currency=currency,
        )
        click.echo(f"Created round {created.code} ({created.kind.value}, number {created.number}).")


@rounds_cli.command("list")
def list_rounds() -> None:
    """List rounds."""
    with transaction() as session:
        for r in rounds.list_rounds(session):
            period = f"{r.reference_period_start} to {r.reference_period_end}" if r.reference_period_start else "-"
            click.echo(f"{r.code:<8} {r.number:>3} {r.kind.value:<10} {r.status.value:<7} {period:<26} {r.name}")


@rounds_cli.command("close")
@click.argument("code")
@friendly_errors
def close(code: str) -> None:
    """Close round CODE: it leaves the forms' rounds list (submissions already made still count)."""
    with transaction(write=True) as session:
        rounds.set_status(session, code, RoundStatus.CLOSED)
    click.echo(f"Closed round {code}.")
