"""Chain pages: adoption over the rounds, practices, reasons, positions and markets, returns, by disaggregation."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.dashboard import chain_page
from app.dashboard.access import STAFF, guard
from app.db import transaction
from app.errors import InvalidError, NotFoundError
from app.services.indicators import board

bp = Blueprint("chains", __name__, url_prefix="/dashboard/chains")
guard(bp, STAFF)


@bp.route("/")
def index() -> Response:
    return redirect(url_for("overview.index"))


@bp.route("/<code>")
def show(code: str) -> str:
    weighting = request.args.get("weighting", "weighted")
    try:
        view = board.View.parse(request.args.get("view"))
        board.check_weighting(weighting)
    except InvalidError as exc:
        abort(400, description=exc.message)
    with transaction() as session:
        try:
            chain = board.chain_by_code(session, code)
            page = chain_page.build(session, chain, request.args.get("round") or None, view, weighting)
        except NotFoundError as exc:
            abort(404, description=exc.message)
        fresh = board.freshness(session, chain.id).get(page.round.code)
        return render_template(
            "dashboard/chain.html",
            page=page,
            fresh=fresh,
            weighting=weighting,
            types=chain_page.TYPES,
            outcomes=chain_page.OUTCOMES,
            scores=chain_page.SCORES,
        )
