"""Exports: indicators and analysis tables as CSV and XLSX, streamed in constant memory.

Downloads are GET links (reads: no CSRF). Managers get the analysis tables without personal data; admins may add
it (``personal=1``), and a manager who asks for it gets a 403 page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import IO

from flask import Blueprint, Response, abort, render_template, request, stream_with_context
from sqlalchemy import select

from app.dashboard.access import STAFF, guard, viewer
from app.db import transaction
from app.errors import DomainError
from app.indicators.catalogue import CATALOGUE, DISAGGREGATIONS
from app.models import SurveyRound, ValueChain
from app.services import audit, exports

bp = Blueprint("exports", __name__, url_prefix="/dashboard/exports")
guard(bp, STAFF)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK = 256 * 1024
PERSONAL_REFUSED = "Personal data (names, phone numbers, GPS) may only be exported by administrators."


def _filters() -> exports.Filters:
    args = request.args
    return exports.Filters(
        chain=args.get("chain") or None,
        round=args.get("round") or None,
        code=args.get("code") or None,
        disaggregation=args.get("disaggregation") or None,
    )


@bp.route("/")
def index() -> str:
    filters = _filters()
    error = None
    with transaction() as session:
        chains = list(session.scalars(select(ValueChain.code).order_by(ValueChain.code)))
        rounds = list(session.scalars(select(SurveyRound.code).order_by(SurveyRound.number)))
        listed = []
        for name in exports.EXPORTS:
            try:
                exports.validate(session, name, filters)
                rows: int | None = exports.count(session, name, filters)
            except DomainError as exc:
                error, rows = exc.message, None
            applied = {f: getattr(filters, f) for f in exports.filters_of(name) if getattr(filters, f)}
            listed.append({"name": name, "filters": exports.filters_of(name), "args": applied, "rows": rows})
    return render_template(
        "dashboard/exports.html",
        exports=listed,
        filters=filters,
        chains=chains,
        rounds=rounds,
        codes=[i.code for i in CATALOGUE],
        disaggregations=DISAGGREGATIONS,
        personal_allowed=viewer().is_admin,
        has_personal_data=exports.has_personal_data,
        error=error,
    )


@bp.route("/<name>.<fmt>")
def download(name: str, fmt: str) -> Response:
    if name not in exports.EXPORTS or fmt not in exports.FORMATS:
        abort(404, description=f"There is no export '{name}.{fmt}'.")
    personal = request.args.get("personal") in {"1", "true", "yes", "on"}
    if personal and not viewer().is_admin:
        abort(403, description=PERSONAL_REFUSED)
    filters = _filters()
    with transaction(write=True) as session:
        try:
            exports.validate(session, name, filters)
        except DomainError as exc:
            abort(exc.status, description=exc.message)
        who = viewer()
        applied = {k: v for k, v in vars(filters).items() if v}
        detail = {"format": fmt, "personal_data": personal, **applied}
        audit.record(
            session, "export", audit.Actor(who.id, who.username), target=name, ip=request.remote_addr, detail=detail
        )
    columns = exports.columns(name, personal)
    attachment = exports.filename(name, fmt, personal, dt.datetime.now(dt.UTC).date())
    if fmt == "csv":

        def body() -> Iterator[bytes]:
            with transaction() as session:
                yield from exports.csv_chunks(columns, exports.batches(session, name, filters, personal))

        response = Response(stream_with_context(body()), mimetype="text/csv")
    else:
        with transaction() as session:
            workbook = exports.xlsx_file(name, columns, exports.batches(session, name, filters, personal))
        response = Response(_chunks_of(workbook), mimetype=XLSX, direct_passthrough=True)
        response.call_on_close(workbook.close)  # also when the download is abandoned before it starts
    response.headers["Content-Disposition"] = f'attachment; filename="{attachment}"'
    response.headers["Cache-Control"] = "no-store"  # personal data must not linger in caches
    return response


def _chunks_of(workbook: IO[bytes]) -> Iterator[bytes]:
    """The temporary file in chunks; closing it deletes it."""
    try:
        while chunk := workbook.read(CHUNK):
            yield chunk
    finally:
        workbook.close()
