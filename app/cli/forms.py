"""`flask forms ...`: publish XLSForms and XForms, list, close and assign them."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli.common import cli_actor, friendly_errors
from app.db import transaction
from app.models import FormState
from app.services import audit, forms
from app.services.blobs import BlobStore

forms_cli = AppGroup("forms", help="Survey forms (XLSForm or XForm) and who may use them.")


def media_for(path: Path, extra: tuple[str, ...]) -> dict[str, bytes]:
    """--media files, plus every file in a ``<form stem>-media/`` folder beside the form."""
    files = [Path(m) for m in extra]
    folder = path.with_name(f"{path.stem}-media")
    if folder.is_dir():
        files += sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    return {f.name: f.read_bytes() for f in files}


@forms_cli.command("publish")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--media", "media", multiple=True, type=click.Path(exists=True, dir_okay=False), help="Form media file.")
@friendly_errors
def publish(paths: tuple[Path, ...], media: tuple[str, ...]) -> None:
    """Publish XLSForms (.xlsx, .xls) or XForms (.xml). Media: --media FILE, or a FORM-media/ folder beside it.

    Publishing a new version keeps the older ones (their submissions are still accepted). Publishing the same
    form id and version again is a no-op when nothing changed, and refused when the content differs.
    """
    store: BlobStore = current_app.extensions["blobs"]
    for path in paths:
        with transaction(write=True) as session:
            result = forms.publish(session, store, path.name, path.read_bytes(), media_for(path, media))
            form_id, version = result.form.form_id, result.version.version or "(none)"
            if result.created:
                detail = {"version": version, "file": path.name}
                audit.record(session, "form_publish", cli_actor(), target=form_id, detail=detail)
        state = "Published" if result.created else "Already published:"
        click.echo(f"{state} {form_id} version {version} from {path}")
        for warning in result.warnings:
            click.echo(f"  warning: {warning}")
        if result.missing_media:
            click.echo(f"  missing media (publish with --media): {', '.join(result.missing_media)}")


@forms_cli.command("list")
def list_forms() -> None:
    """List forms with their current version, state, and who may use them."""
    with transaction() as session:
        rows = forms.list_forms(session)
        click.echo(f"{'FORM ID':<28} {'VERSION':<16} {'STATE':<7} {'VERS':>4} {'SUBMS':>6}  TITLE / ASSIGNED")
        for row in rows:
            current = row.form.current_version
            title = current.title if current else ""
            who = ", ".join(row.assigned) or "every enumerator"
            version = (current.version or "(none)") if current else "-"
            click.echo(
                f"{row.form.form_id:<28} {version:<16} {row.form.state.value:<7} "
                f"{row.versions:>4} {row.submissions:>6}  {title} [{who}]"
            )


@forms_cli.command("close")
@click.argument("form_id")
@friendly_errors
def close(form_id: str) -> None:
    """Stop listing FORM_ID and refuse new submissions to it."""
    with transaction(write=True) as session:
        forms.set_state(session, form_id, FormState.CLOSED)
    click.echo(f"Closed {form_id}: no longer listed; new submissions are refused.")


@forms_cli.command("open")
@click.argument("form_id")
@friendly_errors
def reopen(form_id: str) -> None:
    """Open FORM_ID again."""
    with transaction(write=True) as session:
        forms.set_state(session, form_id, FormState.OPEN)
    click.echo(f"Opened {form_id}.")


@forms_cli.command("assign")
@click.argument("form_id")
@click.argument("usernames", nargs=-1, required=True)
@click.option("--remove", is_flag=True, help="Remove these assignments instead.")
@friendly_errors
def assign(form_id: str, usernames: tuple[str, ...], remove: bool) -> None:
    """Restrict FORM_ID to the named enumerators. A form with no assignments is open to every enumerator."""
    with transaction(write=True) as session:
        forms.assign(session, form_id, usernames, remove=remove)
    click.echo(f"{'Unassigned' if remove else 'Assigned'} {form_id}: {', '.join(usernames)}")
