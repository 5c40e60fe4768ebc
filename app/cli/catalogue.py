"""`flask catalogue ...`: the value chains, their practices and the reason codes."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from app.db import transaction
from app.ingest.catalogue import CatalogueFileError, read_catalogue
from app.models import UpgradingPractice, ValueChain
from app.services.catalogue import load_catalogue

catalogue_cli = AppGroup("catalogue", help="Value chains, upgrading practices and reason codes.")


@catalogue_cli.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def load(path: Path) -> None:
    """Load the catalogue file PATH (YAML). Idempotent: rows are matched by code and updated in place."""
    try:
        data = read_catalogue(path.read_text(encoding="utf-8"))
    except CatalogueFileError as exc:
        raise click.ClickException(f"{path} is not a valid catalogue:\n  " + "\n  ".join(exc.errors)) from exc
    with transaction(write=True) as session:
        report = load_catalogue(session, data)
    if not report.changed:
        click.echo(f"Catalogue {path} is already loaded; nothing changed.")
        return
    for label, counts in (("created", report.created), ("updated", report.updated)):
        if counts:
            click.echo(f"{label}: " + ", ".join(f"{n} {table}" for table, n in sorted(counts.items())))


@catalogue_cli.command("list")
def list_chains() -> None:
    """List value chains with their number of active practices."""
    practices = (
        select(func.count())
        .where(UpgradingPractice.value_chain_id == ValueChain.id, UpgradingPractice.is_active.is_(True))
        .scalar_subquery()
    )
    with transaction() as session:
        rows = session.execute(select(ValueChain, practices).order_by(ValueChain.code)).all()
    for chain, count in rows:
        note = " (illustrative)" if chain.is_illustrative and "illustrative" not in chain.name else ""
        click.echo(f"{chain.code:<10} {chain.sector.value:<12} {count:>3} practices  {chain.name}{note}")
