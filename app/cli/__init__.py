"""Command-line interface: ``flask --app wsgi <group> <command>``; every command has ``--help``."""

from __future__ import annotations

from flask import Flask

from app.cli.catalogue import catalogue_cli
from app.cli.forms import forms_cli
from app.cli.kobo import kobo_cli
from app.cli.migrate import db_cli
from app.cli.rounds import rounds_cli
from app.cli.submissions import submissions_cli
from app.cli.users import users_cli


def register_commands(app: Flask) -> None:
    for group in (db_cli, users_cli, forms_cli, catalogue_cli, rounds_cli, submissions_cli, kobo_cli):
        app.cli.add_command(group)
