"""The firm panel: firms filtered by chain, round and programme status; one firm with everything derived about it.

Personal data (``firm_contacts``: names, phone, exact location) leaves only for admins, as ``contact``.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.api.v1.auth import current_user, require_staff, staff_only
from app.api.v1.pagination import fetch_page
from app.api.v1.problems import fail, known
from app.db import transaction
from app.models import (
    ChainFunction,
    DecisionReason,
    EndMarket,
    Firm,
    FirmContact,
    FirmObservation,
    FirmRound,
    Form,
    FunctionPerformed,
    ReasonCode,
    Role,
    SaleByChannel,
    Submission,
    SurveyRound,
    UpgradingDecision,
    UpgradingPractice,
    ValueChain,
)
from app.schemas.api import FirmArgs, FirmDetailOut, FirmPageOut
from app.services import derive
from app.vocab import ParticipantStatus

TAG = "firms"
FIRM_FIELDS = ("panel_code", "admin1", "admin2", "admin3", "urban_rural", "year_started", "legal_status")
# The observation as the API shows it: interview and owner details, then what processing derived.
OBSERVATION_FIELDS = (
    "interview_start",
    "interview_end",
    "duration_seconds",
    "respondent_role",
    "owner_sex",
    "owner_birth_year",
    "owner_education",
    *derive.OBSERVATION_FIELDS,
    "net_income",
)
DECISION_FIELDS = (
    "aware",
    "status",
    "applied_in_period",
    "scale_share",
    "investment_cost",
    "financing_source",
    "information_source",
    "perceived_benefit",
    "perceived_cost",
    "perceived_risk",
)

blp = Blueprint("firms", __name__, url_prefix="/firms", description="The firm panel (admins and managers).")
blp.before_request(require_staff)


def _firm_summary(firm: Firm, chain_code: str) -> dict[str, Any]:
    return {
        **{name: getattr(firm, name) for name in FIRM_FIELDS},
        "chain": chain_code,
        "group_member": firm.group_member,
        "is_active": firm.is_active,
        "created_at": firm.created_at,
    }


@blp.route("", tags=[TAG])
class Firms(MethodView):
    @staff_only
    @blp.arguments(FirmArgs, location="query")
    @blp.response(200, FirmPageOut)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List firms, in a stable order, a page at a time"""
        with transaction() as session:
            stmt = select(Firm, ValueChain.code).join(ValueChain, ValueChain.id == Firm.value_chain_id)
            if "chain" in args:
                chain_id = session.scalar(select(ValueChain.id).where(ValueChain.code == args["chain"]))
                stmt = stmt.where(
                    Firm.value_chain_id == known(chain_id, "chain", f"There is no value chain '{args['chain']}'.")
                )
            in_round = []
            if "round" in args:
                round_id = session.scalar(select(SurveyRound.id).where(SurveyRound.code == args["round"]))
                in_round.append(
                    FirmRound.round_id == known(round_id, "round", f"There is no survey round '{args['round']}'.")
                )
            if "participant_status" in args:
                in_round.append(FirmRound.participant_status == ParticipantStatus(args["participant_status"]))
            if in_round:
                stmt = stmt.where(select(FirmRound.id).where(FirmRound.firm_id == Firm.id, *in_round).exists())
            page = fetch_page(session, stmt, Firm.id, args, lambda row: row[0].id)
            return {"items": [_firm_summary(firm, code) for firm, code in page.rows], "next_cursor": page.next_cursor}


@blp.route("/<panel_code>", tags=[TAG])
class FirmDetail(MethodView):
    @staff_only
    @blp.response(200, FirmDetailOut)
    def get(self, panel_code: str) -> dict[str, Any]:
        """One firm: its rounds, observations, sales and upgrading decisions (and, for admins, its contact)"""
        with transaction() as session:
            found = session.execute(
                select(Firm, ValueChain.code)
                .join(ValueChain, ValueChain.id == Firm.value_chain_id)
                .where(Firm.panel_code == panel_code)
            )
            row = found.first()
            if row is None:
                fail(404, f"There is no firm with panel code '{panel_code}'.")
            firm, chain_code = row
            detail = _firm_summary(firm, chain_code)
            detail["base_weight"] = firm.base_weight
            detail["baseline_round"] = (
                session.scalar(select(SurveyRound.code).where(SurveyRound.id == firm.baseline_round_id))
                if firm.baseline_round_id is not None
                else None
            )
            detail["rounds"] = _rounds(session, firm.id)
            detail["observations"] = _observations(session, firm.id)
            detail["decisions"] = _decisions(session, firm.id)
            if current_user().role is Role.ADMIN:
                detail["contact"] = _contact(session.get(FirmContact, firm.id))
            return detail


def _rounds(session: Session, firm_id: int) -> list[dict[str, Any]]:
    stmt = (
        select(FirmRound, SurveyRound.code)
        .join(SurveyRound, SurveyRound.id == FirmRound.round_id)
        .where(FirmRound.firm_id == firm_id)
        .order_by(SurveyRound.number, SurveyRound.code)
    )
    return [
        {
            "round": code,
            "participant_status": row.participant_status,
            "interviewed": row.interviewed,
            "weight": row.round_weight,
        }
        for row, code in session.execute(stmt)
    ]


def _observations(session: Session, firm_id: int) -> list[dict[str, Any]]:
    stmt = (
        select(FirmObservation, SurveyRound.code, Submission.instance_id, Form.form_id)
        .join(SurveyRound, SurveyRound.id == FirmObservation.round_id)
        .join(Submission, Submission.id == FirmObservation.submission_id)
        .join(Form, Form.id == Submission.form_pk)
        .where(FirmObservation.firm_id == firm_id)
        .order_by(SurveyRound.number, SurveyRound.code)
    )
    rows = session.execute(stmt).all()
    ids = [observation.id for observation, *_ in rows]
    functions: dict[int, list[str]] = {pk: [] for pk in ids}
    for observation_id, code in session.execute(
        select(FunctionPerformed.observation_id, ChainFunction.code)
        .join(ChainFunction, ChainFunction.id == FunctionPerformed.chain_function_id)
        .where(FunctionPerformed.observation_id.in_(ids))
        .order_by(ChainFunction.value_added_rank, ChainFunction.code)
    ):
        functions[observation_id].append(code)
    sales: dict[int, list[dict[str, Any]]] = {pk: [] for pk in ids}
    for sale, market in session.execute(
        select(SaleByChannel, EndMarket.code)
        .join(EndMarket, EndMarket.id == SaleByChannel.end_market_id)
        .where(SaleByChannel.observation_id.in_(ids))
        .order_by(SaleByChannel.id)
    ):
        sales[sale.observation_id].append(
            {
                "end_market": market,
                "buyer_type": sale.buyer_type,
                "qty": sale.qty,
                "value": sale.value,
                "contract": sale.contract,
                "embedded_services": sale.embedded_services,
            }
        )
    return [
        {
            "round": round_code,
            "submission": {"instance_id": instance_id, "form_id": form_id},
            **{name: getattr(observation, name) for name in OBSERVATION_FIELDS},
            "functions": functions[observation.id],
            "sales": sales[observation.id],
        }
        for observation, round_code, instance_id, form_id in rows
    ]


def _decisions(session: Session, firm_id: int) -> list[dict[str, Any]]:
    stmt = (
        select(UpgradingDecision, SurveyRound.code, UpgradingPractice.code, UpgradingPractice.upgrading_type)
        .join(SurveyRound, SurveyRound.id == UpgradingDecision.round_id)
        .join(UpgradingPractice, UpgradingPractice.id == UpgradingDecision.practice_id)
        .where(UpgradingDecision.firm_id == firm_id)
        .order_by(SurveyRound.number, SurveyRound.code, UpgradingPractice.code)
    )
    rows = session.execute(stmt).all()
    reasons: dict[int, list[dict[str, Any]]] = {decision.id: [] for decision, *_ in rows}
    for decision_id, code, is_main in session.execute(
        select(DecisionReason.decision_id, ReasonCode.code, DecisionReason.is_main)
        .join(ReasonCode, ReasonCode.id == DecisionReason.reason_code_id)
        .where(DecisionReason.decision_id.in_(list(reasons)))
        .order_by(DecisionReason.is_main.desc(), ReasonCode.code)
    ):
        reasons[decision_id].append({"code": code, "is_main": is_main})
    return [
        {
            "round": round_code,
            "practice": practice,
            "upgrading_type": upgrading_type,
            "first_year": decision.first_year_applied,
            "last_year": decision.last_year_applied,
            **{name: getattr(decision, name) for name in DECISION_FIELDS},
            "reasons": reasons[decision.id],
        }
        for decision, round_code, practice, upgrading_type in rows
    ]


def _contact(contact: FirmContact | None) -> dict[str, Any] | None:
    if contact is None:
        return None
    names = ("firm_name", "owner_name", "phone", "gps_lat", "gps_lon", "gps_accuracy", "updated_at")
    return {name: getattr(contact, name) for name in names}
