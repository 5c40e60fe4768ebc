"""`flask kobo ...`: KoboToolbox REST-service hooks (push) and asset syncs (pull). See docs/kobo-integration.md."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.cli.common import friendly_errors, server_url
from app.db import transaction
from app.models import KoboAuthMode
from app.services import kobo_hooks
from app.services.kobo_hooks import DEFAULT_HEADER, DEFAULT_USERNAME, HookSecrets

kobo_cli = AppGroup("kobo", help="KoboToolbox: REST-service hooks (KoBo pushes) and asset syncs (we pull).")
hooks_cli = AppGroup("hooks", help="Endpoints for KoBo's REST services (Project > Settings > REST Services).")
kobo_cli.add_command(hooks_cli)


def _print_secrets(issued: HookSecrets, server: str | None) -> None:
    hook = issued.hook
    url = f"{server_url(server)}/kobo/hook/{issued.token}"
    click.echo(f"KoBo hook '{hook.name}' for form {hook.form.form_id} ({hook.auth_mode.value} authentication).")
    click.echo("In KoBo: Project > Settings > REST Services > Register a new service:")
    click.echo(f"  Endpoint URL:    {url}")
    click.echo("  Type:            JSON (or XML); no payload template; all fields (or at least _id and meta)")
    if hook.auth_mode is KoboAuthMode.BASIC:
        click.echo("  Security:        Basic Authentication")
        click.echo(f"  Username:        {hook.basic_username}")
        click.echo(f"  Password:        {issued.password}")
    elif hook.auth_mode is KoboAuthMode.HEADER:
        click.echo("  Custom HTTP Headers:")
        click.echo(f"    {hook.header_name}: {issued.header_value}")
    click.echo("These secrets are shown once; `kobo hooks rotate` issues new ones.")


@hooks_cli.command("add")
@click.argument("name")
@click.option("--form", "form_id", required=True, help="The ChainLift form id KoBo's records are stored under.")
@click.option(
    "--auth",
    "auth_mode",
    type=click.Choice([m.value for m in KoboAuthMode]),
    default=KoboAuthMode.TOKEN.value,
    show_default=True,
    help="token: the secret URL only; basic: and a Basic password; header: and a custom header.",
)
@click.option("--username", default=DEFAULT_USERNAME, show_default=True, help="Basic user name (--auth basic).")
@click.option("--header", "header_name", default=DEFAULT_HEADER, show_default=True, help="Header (--auth header).")
@click.option("--server", help="Public URL of this server (default: PUBLIC_BASE_URL or http://127.0.0.1:5000).")
@friendly_errors
def add_hook(  # noqa: PLR0917 - click passes every option
    name: str, form_id: str, auth_mode: str, username: str, header_name: str, server: str | None
) -> None:
    """Create hook NAME for FORM_ID and print the URL (and secrets) to paste into KoBo."""
    with transaction(write=True) as session:
        issued = kobo_hooks.create_hook(
            session, name, form_id, KoboAuthMode(auth_mode), username=username, header_name=header_name
        )
        _print_secrets(issued, server)


@hooks_cli.command("rotate")
@click.argument("name")
@click.option("--server", help="Public URL of this server (default: PUBLIC_BASE_URL or http://127.0.0.1:5000).")
@friendly_errors
def rotate_hook(name: str, server: str | None) -> None:
    """New URL token and secret for hook NAME; the old ones stop working at once."""
    with transaction(write=True) as session:
        _print_secrets(kobo_hooks.rotate(session, name), server)


@hooks_cli.command("list")
def list_hooks() -> None:
    """Hooks with their form, authentication, state and delivery counts."""
    with transaction() as session:
        hooks = kobo_hooks.list_hooks(session)
        click.echo(
            f"{'NAME':<20} {'FORM':<24} {'AUTH':<7} {'STATE':<9} {'NEW':>5} {'EDIT':>5} {'DUP':>5} {'REJ':>5}  LAST"
        )
        for h in hooks:
            last = f"{h.last_delivery_at:%Y-%m-%d %H:%M} -> {h.last_status}" if h.last_delivery_at else "never"
            click.echo(
                f"{h.name:<20} {h.form.form_id:<24} {h.auth_mode.value:<7} {'active' if h.active else 'disabled':<9} "
                f"{h.created_count:>5} {h.edited_count:>5} {h.duplicate_count:>5} {h.rejected_count:>5}  {last}"
            )
            if h.last_error:
                click.echo(f"{'':<20} last error: {h.last_error}")


@hooks_cli.command("disable")
@click.argument("name")
@friendly_errors
def disable_hook(name: str) -> None:
    """Refuse deliveries to hook NAME (404) until it is enabled again."""
    with transaction(write=True) as session:
        kobo_hooks.set_active(session, name, active=False)
    click.echo(f"Disabled KoBo hook '{name}'.")


@hooks_cli.command("enable")
@click.argument("name")
@friendly_errors
def enable_hook(name: str) -> None:
    """Accept deliveries to hook NAME again."""
    with transaction(write=True) as session:
        kobo_hooks.set_active(session, name, active=True)
    click.echo(f"Enabled KoBo hook '{name}'.")
