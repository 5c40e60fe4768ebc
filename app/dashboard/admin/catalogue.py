"""The catalogue, read-only: value chains, their functions, end markets and practices, reason codes, rounds.

An admin may load a catalogue YAML file here as with ``flask catalogue load``: an idempotent upsert by code.
"""

from __future__ import annotations

from flask import render_template, request
from werkzeug.wrappers import Response

from app.dashboard.admin.blueprint import bp, done, record, refused
from app.db import transaction
from app.errors import InvalidError
from app.ingest.catalogue import CatalogueFileError, read_catalogue
from app.services.catalogue import LoadReport, load_catalogue
from app.services.catalogue_view import catalogue_view

PAGE = "admin.catalogue_page"


def _render(errors: list[str] | None = None, filename: str = "", status: int = 200) -> tuple[str, int]:
    with transaction() as session:
        page = render_template(
            "dashboard/admin/catalogue.html", view=catalogue_view(session), errors=errors, filename=filename
        )
    return page, status


@bp.route("/catalogue")
def catalogue_page() -> tuple[str, int]:
    return _render()


def summary(report: LoadReport) -> str:
    if not report.changed:
        return "already loaded; nothing changed."
    parts = [
        f"{label} " + ", ".join(f"{n} {table}" for table, n in sorted(counts.items()))
        for label, counts in (("created", report.created), ("updated", report.updated))
        if counts
    ]
    return "; ".join(parts) + ". The indicators of the chains that changed will be recomputed."


@bp.post("/catalogue")
def load_catalogue_file() -> Response | tuple[str, int]:
    upload = request.files.get("catalogue")
    if upload is None or not upload.filename:
        return refused(PAGE, InvalidError("Choose a catalogue file (YAML) to load."))
    filename = upload.filename
    try:
        data = read_catalogue(upload.read().decode("utf-8"))
    except UnicodeDecodeError:
        return _render([f"{filename} is not UTF-8 text."], filename, 400)
    except CatalogueFileError as exc:
        return _render(exc.errors, filename, 400)
    with transaction(write=True) as session:
        report = load_catalogue(session, data)
        record(session, "catalogue_load", filename, created=report.created, updated=report.updated)
    return done(PAGE, f"Catalogue {filename}: {summary(report)}")
