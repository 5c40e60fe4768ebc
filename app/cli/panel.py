"""`flask panel ...`: survey design data of the firm panel (weights, participant status)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from app.cli.common import friendly_errors
from app.db import transaction
from app.services import panel

panel_cli = AppGroup("panel", help="The firm panel's survey weights and participant status.")


@panel_cli.command("design")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@friendly_errors
def design(path: Path) -> None:
    """Load firm-round weights and/or participant status from the CSV file PATH.

    Columns: panel_code, round, and weight and/or participant_status (participant, comparison, unknown); an empty
    cell leaves the value as it is. All or nothing: an unknown firm or round, or a bad value, changes nothing.
    The indicators of the rounds concerned are recomputed by the job worker.
    """
    rows = panel.read_design_csv(path.read_text(encoding="utf-8-sig"))
    with transaction(write=True) as session:
        changed = panel.set_design(session, rows)
    click.echo(f"{len(rows)} rows read, {changed} firm-rounds changed.")
