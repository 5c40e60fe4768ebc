"""Value-chain upgrading indicators: stored results with their CIs, the catalogue, freshness and job runs.

Results are computed by the aggregation jobs, never per request: reading them costs one indexed query.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Response, current_app, request, stream_with_context
from flask.views import MethodView
from flask_smorest import Blueprint

from app.api.v1.auth import current_user, require_staff, staff_only
from app.api.v1.pagination import fetch_page
from app.db import transaction
from app.indicators.catalogue import CATALOGUE, DISAGGREGATIONS, METHOD_VERSION, WEIGHTINGS
from app.indicators.sums import SUPPRESS_BELOW
from app.jobs import jobs_of
from app.models import IndicatorResult, JobStatus
from app.schemas.indicators_api import (
    CatalogueOut,
    IndicatorArgs,
    IndicatorFilterArgs,
    IndicatorPageOut,
    JobArgs,
    JobsOut,
    StatusOut,
)
from app.services import audit
from app.services.exports import csv_chunks, indicators
from app.services.indicators import read, status

TAG = "indicators"

blp = Blueprint(
    "indicators", __name__, url_prefix="/indicators", description="Upgrading indicators (admins and managers)."
)
blp.before_request(require_staff)


@blp.route("", tags=[TAG])
class Indicators(MethodView):
    @staff_only
    @blp.arguments(IndicatorArgs, location="query")
    @blp.response(200, IndicatorPageOut)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Stored indicator results, filtered, a page at a time (long format: one value per row)"""
        with transaction() as session:
            stmt = read.results_query(session, args)
            pending = status.pending_by_pair(session)
            page = fetch_page(session, stmt, IndicatorResult.id, args, lambda row: row[0].id)
            return {"items": [read.to_item(row, pending) for row in page.rows], "next_cursor": page.next_cursor}


@blp.route("/export.csv", tags=[TAG])
class IndicatorsCsv(MethodView):
    @staff_only
    @blp.arguments(IndicatorFilterArgs, location="query")
    @blp.response(200, {"type": "string"}, content_type="text/csv")
    def get(self, args: dict[str, Any]) -> Response:
        """The same results as CSV, long format, streamed (filters as for the JSON list, no paging)"""
        with transaction(write=True) as session:
            read.results_query(session, args)  # unknown chain, round or code: a 404 problem before streaming
            user = current_user()
            filters = {k: str(v) for k, v in args.items() if v}
            audit.record(
                session,
                "export",
                audit.Actor(user.id, user.username),
                target="indicators",
                ip=request.remote_addr,
                detail={"format": "csv", "via": "api", **filters},
            )

        def rows() -> Iterator[bytes]:
            with transaction() as session:
                yield from csv_chunks(indicators.COLUMNS, indicators.batches(session, args))

        response = Response(stream_with_context(rows()), mimetype="text/csv")
        response.headers["Content-Disposition"] = 'attachment; filename="indicators.csv"'
        return response


@blp.route("/catalogue", tags=[TAG])
class Catalogue(MethodView):
    @staff_only
    @blp.response(200, CatalogueOut)
    def get(self) -> dict[str, Any]:
        """Definitions, measures and units of every indicator (../shared/docs/indicators.md)"""
        return {
            "method_version": METHOD_VERSION,
            "suppress_below": SUPPRESS_BELOW,
            "disaggregations": list(DISAGGREGATIONS),
            "weightings": list(WEIGHTINGS),
            "indicators": [vars(indicator) for indicator in CATALOGUE],
        }


@blp.route("/status", tags=[TAG])
class Status(MethodView):
    @staff_only
    @blp.response(200, StatusOut)
    def get(self) -> dict[str, Any]:
        """Per (chain, round): when computed, the data watermark, stale changes waiting, the last error"""
        with transaction() as session:
            return {"pairs": status.pair_status(session)}


jobs_blp = Blueprint("jobs", __name__, url_prefix="/jobs", description="The aggregation job queue (admins, managers).")
jobs_blp.before_request(require_staff)


@jobs_blp.route("", tags=[TAG])
class Jobs(MethodView):
    @staff_only
    @jobs_blp.arguments(JobArgs, location="query")
    @jobs_blp.response(200, JobsOut)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Queued tasks and the latest job runs, newest first, with their errors (failed ones stay listed)"""
        jobs = jobs_of(current_app)
        try:
            queued, scheduled = jobs.huey.pending_count(), jobs.huey.scheduled_count()
        except Exception:
            queued = scheduled = None
        wanted = JobStatus(args["status"]) if args.get("status") else None
        with transaction() as session:
            runs = status.job_runs(session, wanted, args["limit"])
            return {"queued": queued, "scheduled": scheduled, "runs": runs}
