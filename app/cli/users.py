"""`flask users ...`: accounts for admins, programme managers and enumerators."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import AppGroup

from app.cli.common import cli_actor, friendly_errors, server_url
from app.db import transaction
from app.models import Role
from app.services import audit, users
from app.services import collect_config as collect
from app.services.collect_config import collect_settings

__all__ = ["collect_settings", "users_cli"]  # collect_settings moved to app.services.collect_config; kept importable

users_cli = AppGroup("users", help="User accounts and ODK Collect set-up.")


@users_cli.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True, help="What the user may do.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (else one is generated).")
@friendly_errors
def create(name: str, role: str, password_stdin: bool) -> None:
    """Create user NAME. Prints a generated password unless --password-stdin is given."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else users.new_password()
    with transaction(write=True) as session:
        user = users.create_user(session, name, Role(role), password)
        audit.record(session, "user_create", cli_actor(), target=name, detail={"role": role})
    click.echo(f"Created {user.role.value} '{user.username}'.")
    if not password_stdin:
        click.echo(f"Password: {password}")


@users_cli.command("list")
def list_users() -> None:
    """List users with their role and state."""
    with transaction() as session:
        rows = users.list_users(session)
    click.echo(f"{'NAME':<24} {'ROLE':<11} {'STATE':<12} CREATED")
    for user in rows:
        state = "active" if user.active else "deactivated"
        click.echo(f"{user.username:<24} {user.role.value:<11} {state:<12} {user.created_at:%Y-%m-%d}")


@users_cli.command("deactivate")
@click.argument("name")
@friendly_errors
def deactivate(name: str) -> None:
    """Deactivate NAME: its password and app-user token stop working at once."""
    with transaction(write=True) as session:
        users.deactivate(session, name)
        audit.record(session, "user_deactivate", cli_actor(), target=name)
    click.echo(f"Deactivated '{name}'.")


@users_cli.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (else one is generated).")
@friendly_errors
def set_password(name: str, password_stdin: bool) -> None:
    """Set a new password for NAME."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else users.new_password()
    with transaction(write=True) as session:
        users.set_password(users.get_user(session, name), password)
        audit.record(session, "user_password_reset", cli_actor(), target=name)
    click.echo(f"Password changed for '{name}'." + ("" if password_stdin else f"\nPassword: {password}"))


@users_cli.command("ensure-admin")
@friendly_errors
def ensure_admin() -> None:
    """Create the first admin if there is none; prints its password only when it was created."""
    with transaction(write=True) as session:
        user, password = users.ensure_admin(session)
    if password is not None:
        click.echo(f"Created admin '{user.username}' with password: {password}")
        click.echo("This password is shown once; change it with: flask --app wsgi users set-password admin")


@users_cli.command("collect-config")
@click.argument("name")
@click.option("--server", help="Server URL as phones reach it (default: PUBLIC_BASE_URL or http://127.0.0.1:5000).")
@click.option("--project", default=collect.PROJECT, show_default=True, help="Project name shown in Collect.")
@click.option("--rotate", is_flag=True, help="Issue a new token; phones set up with the old one stop working.")
@click.option("--qr", "qr_path", type=click.Path(dir_okay=False), help="Also write the QR code to this PNG/SVG file.")
@friendly_errors
def collect_config(name: str, server: str | None, project: str, rotate: bool, qr_path: str | None) -> None:
    """Print the app-user URL of enumerator NAME and the ODK Collect settings JSON for its QR code."""
    with transaction(write=True) as session:
        config = collect.collect_config(session, name, server_url(server), project, rotate=rotate)
    click.echo(f"Server URL (app user '{name}', no password needed):\n  {config.url}\n")
    click.echo("ODK Collect settings JSON:")
    click.echo(json.dumps(config.settings, indent=2))
    qr = collect.qr_code(config.payload)
    if qr_path:
        qr.save(qr_path, scale=6)
        click.echo(f"\nQR code written to {qr_path}: in Collect, Project settings > Reconfigure with QR code.")
    else:
        click.echo("\nQR code (Collect: Project settings > Reconfigure with QR code; or use --qr FILE.png):")
        qr.terminal(compact=True)
