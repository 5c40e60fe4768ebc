"""The reference data behind the survey: value chains (functions, end markets, active practices), reasons, rounds."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.api.v1.auth import require_staff, staff_only
from app.db import transaction
from app.models import ReasonCode, UpgradingPractice, ValueChain
from app.schemas.api import ChainListOut, ReasonListOut, RoundListOut
from app.services import rounds

TAG = "catalogue"

blp = Blueprint("catalogue", __name__, url_prefix="/catalogue", description="Value chains, reasons and rounds.")
blp.before_request(require_staff)


def _practice(practice: UpgradingPractice) -> dict[str, Any]:
    return {
        "code": practice.code,
        "name": practice.name,
        "name_fr": practice.name_fr,
        "description": practice.description,
        "type": practice.upgrading_type,
        "target_function": practice.target_function.code if practice.target_function else None,
        "target_end_market": practice.target_end_market.code if practice.target_end_market else None,
        "promoted_by_program": practice.promoted_by_program,
    }


def _chain(chain: ValueChain) -> dict[str, Any]:
    scalars = ("code", "name", "name_fr", "country_iso3", "product", "sector", "currency", "reference_period_months")
    return {
        **{name: getattr(chain, name) for name in scalars},
        "is_illustrative": chain.is_illustrative,
        "description": chain.description,
        "functions": [
            {"code": f.code, "name": f.name, "name_fr": f.name_fr, "rank": f.value_added_rank} for f in chain.functions
        ],
        "end_markets": [
            {"code": m.code, "name": m.name, "name_fr": m.name_fr, "tier": m.tier, "is_export": m.is_export}
            for m in chain.end_markets
        ],
        "practices": [_practice(p) for p in chain.practices if p.is_active],
    }


@blp.route("/chains", tags=[TAG])
class Chains(MethodView):
    @staff_only
    @blp.response(200, ChainListOut)
    def get(self) -> dict[str, Any]:
        """Value chains with their functions, end markets and active upgrading practices"""
        with transaction() as session:
            chains = session.scalars(
                select(ValueChain)
                .options(
                    selectinload(ValueChain.functions),
                    selectinload(ValueChain.end_markets),
                    selectinload(ValueChain.practices).options(
                        selectinload(UpgradingPractice.target_function),
                        selectinload(UpgradingPractice.target_end_market),
                    ),
                )
                .order_by(ValueChain.code)
            )
            return {"items": [_chain(chain) for chain in chains]}


@blp.route("/reasons", tags=[TAG])
class Reasons(MethodView):
    @staff_only
    @blp.response(200, ReasonListOut)
    def get(self) -> dict[str, Any]:
        """Reason codes for not adopting or abandoning a practice"""
        with transaction() as session:
            return {"items": list(session.scalars(select(ReasonCode).order_by(ReasonCode.code)))}


@blp.route("/rounds", tags=[TAG])
class Rounds(MethodView):
    @staff_only
    @blp.response(200, RoundListOut)
    def get(self) -> dict[str, Any]:
        """Survey rounds, baseline first"""
        with transaction() as session:
            return {"items": list(rounds.list_rounds(session))}
