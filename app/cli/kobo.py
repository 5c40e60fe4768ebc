"""`flask kobo ...`: KoboToolbox REST-service hooks (push) and asset syncs (pull). See docs/kobo-integration.md."""

from __future__ import annotations

from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli.common import friendly_errors, server_url
from app.db import transaction
from app.models import KoboAuthMode
from app.services import kobo_hooks, kobo_sync
from app.services.kobo_hooks import DEFAULT_HEADER, DEFAULT_USERNAME, HookSecrets
from app.services.kobo_sync import KoboSyncError, Progress, SyncReport

kobo_cli = AppGroup("kobo", help="KoboToolbox: REST-service hooks (KoBo pushes) and asset syncs (we pull).")
hooks_cli = AppGroup("hooks", help="Endpoints for KoBo's REST services (Project > Settings > REST Services).")
assets_cli = AppGroup("assets", help="KoBo projects (assets) to pull with `flask kobo sync`.")
kobo_cli.add_command(hooks_cli)
kobo_cli.add_command(assets_cli)


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


# -- assets and the pull sync ----------------------------------------------------------------------------------


@assets_cli.command("add")
@click.option("--server", "server_url", required=True, help="KoBo server, e.g. https://kf.kobotoolbox.org.")
@click.option("--asset", "asset_uid", required=True, help="The project's asset uid (in its URL in KoBo).")
@click.option("--token-env", required=True, help="Name of the environment variable that holds the KoBo API token.")
@click.option("--form", "form_id", help="Store records under this existing form instead of importing KoBo's.")
@click.option("--import-form/--no-import-form", default=None, help="Publish the deployed XLSForm on each sync.")
@friendly_errors
def add_asset(server_url: str, asset_uid: str, token_env: str, form_id: str | None, import_form: bool | None) -> None:
    """Configure a KoBo asset to pull. The token itself is never stored: only the variable's name."""
    with transaction(write=True) as session:
        asset = kobo_sync.add_asset(session, server_url, asset_uid, token_env, form_id=form_id, import_form=import_form)
        click.echo(f"Configured KoBo asset {asset.asset_uid} on {asset.server_url} (id {asset.id}).")
    click.echo(
        f"Sync it with: flask --app wsgi kobo sync --server {server_url} --asset {asset_uid} --token-env {token_env}"
    )


@assets_cli.command("list")
def list_assets() -> None:
    """Configured assets with their form, watermark and last sync."""
    with transaction() as session:
        for asset in kobo_sync.list_assets(session):
            form = asset.form.form_id if asset.form else "(imported on first sync)"
            last = f"{asset.last_success_at:%Y-%m-%d %H:%M}" if asset.last_success_at else "never"
            state = "active" if asset.active else "disabled"
            click.echo(
                f"{asset.id:>3} {asset.asset_uid:<24} {asset.server_url:<32} {form:<24} {state:<8} "
                f"_id>{asset.watermark_id or 0} last success {last}  token ${asset.token_env}"
            )


def _show(progress: Progress) -> None:
    if progress.phase == "done":
        return
    click.echo(
        f"  {progress.phase:<7} pages {progress.pages:>4}: {progress.created} new, {progress.edited} edited, "
        f"{progress.unchanged} unchanged, {progress.deleted} deleted, {progress.files} files, "
        f"{progress.errors} errors; watermark _id {progress.watermark or 0}"
    )


def _summary(report: SyncReport) -> str:
    form = f"; form {report.form_imported} imported" if report.form_imported else ""
    return (
        f"Synced {report.asset_uid}: {report.created} new, {report.edited} edited, {report.unchanged} unchanged, "
        f"{report.deleted} deleted, {report.files} files downloaded, {report.errors} not stored or not fetched, in "
        f"{report.pages} pages / {report.requests} "
        f"requests{form}."
    )


@kobo_cli.command("sync")
@click.option("--server", "server_url", help="KoBo server, e.g. https://kf.kobotoolbox.org.")
@click.option("--asset", "asset_uid", help="The project's asset uid.")
@click.option("--token-env", help="Environment variable holding the API token (configures the asset if new).")
@click.option("--all", "every", is_flag=True, help="Sync every active configured asset (for cron or a job queue).")
@click.option("--max-requests-per-second", type=click.FloatRange(min=0.01), help="Limit the rate of API requests.")
@click.option(
    "--page-size", type=click.IntRange(1, kobo_sync.PAGE_SIZE), default=kobo_sync.PAGE_SIZE, show_default=True
)
@click.option("--force", is_flag=True, help="Take over from a run that was killed (no heartbeat for 15 minutes).")
@friendly_errors
def sync(  # noqa: PLR0917 - click passes every option
    server_url: str | None,
    asset_uid: str | None,
    token_env: str | None,
    every: bool,
    max_requests_per_second: float | None,
    page_size: int,
    force: bool,
) -> None:
    """Pull new, edited and deleted records, their files (photos, audio) and the deployed form from KoBo. Safe to
    interrupt and run again."""
    options: dict[str, Any] = {
        "blobs": current_app.extensions["blobs"],
        "max_file_bytes": current_app.config["MAX_CONTENT_LENGTH"],
        "max_requests_per_second": max_requests_per_second,
        "page_size": page_size,
        "progress": _show,
        "force": force,
    }
    factory = current_app.extensions["sessionmaker"]
    if every:
        failed = 0
        results = kobo_sync.sync_all(factory, **options)
        if not results:
            click.echo("No active KoBo assets are configured (flask kobo assets add ...).")
        for _asset_id, result in results:
            if isinstance(result, Exception):
                failed += 1
                click.echo(f"FAILED: {result}", err=True)
            else:
                click.echo(_summary(result))
        if failed:
            raise click.ClickException(f"{failed} asset(s) failed; their next run goes on from where they stopped.")
        return
    if not server_url or not asset_uid:
        raise click.UsageError("Give --server and --asset (and --token-env the first time), or --all.")
    with transaction(write=True) as session:
        asset = kobo_sync.find_asset(session, server_url, asset_uid)
        if asset is None:
            if not token_env:
                raise click.UsageError("This asset is not configured yet: give --token-env VAR.")
            asset = kobo_sync.add_asset(session, server_url, asset_uid, token_env)
        elif token_env and token_env != asset.token_env:
            asset.token_env = token_env
        asset_id = asset.id
    click.echo(f"Syncing KoBo asset {asset_uid} from {server_url} ...")
    try:
        report = kobo_sync.sync_asset(factory, asset_id, **options)
    except KoboSyncError as exc:
        raise click.ClickException(f"{exc.message} (what was stored stays stored; run again to resume)") from exc
    click.echo(_summary(report))
