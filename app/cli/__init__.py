"""Command-line interface: ``flask --app wsgi <group> <command>``; every command has ``--help``."""

from __future__ import annotations

from flask import Flask

from app.cli.backup import backup_command, restore_command
from app.cli.catalogue import catalogue_cli
from app.cli.demo import demo_cli
from app.cli.forms import forms_cli
from app.cli.indicators import indicators_cli
from app.cli.jobs import jobs_cli
from app.cli.kobo import kobo_cli
from app.cli.migrate import db_cli
from app.cli.panel import panel_cli
from app.cli.rounds import rounds_cli
from app.cli.submissions import submissions_cli
from app.cli.users import users_cli


def register_commands(app: Flask) -> None:
    groups = (
        db_cli,
        users_cli,
        forms_cli,
        catalogue_cli,
        rounds_cli,
        panel_cli,
        submissions_cli,
        indicators_cli,
        jobs_cli,
        demo_cli,
        kobo_cli,
        backup_command,
        restore_command,
    )
    for group in groups:
        app.cli.add_command(group)
