"""Writing the domain rows of one validated, resolved submission (called by app/services/processing.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    DecisionReason,
    Firm,
    FirmContact,
    FirmObservation,
    FirmRound,
    FunctionPerformed,
    SaleByChannel,
    Submission,
    SurveyRound,
    UpgradingDecision,
    ValueChain,
)
from app.services.indicators.staleness import mark_stale
from app.vocab import DecisionStatus, ParticipantStatus, RoundKind

FIRM_FIELDS = ("admin1", "admin2", "admin3", "urban_rural", "year_started", "legal_status", "group_member")
OBSERVATION_FIELDS = (
    "workers_family",
    "workers_hired",
    "workers_female",
    "scale_units",
    "scale_unit",
    "production_qty",
    "sales_value",
    "input_cost",
    "hired_labour_cost",
    "other_costs",
    "received_training",
    "received_embedded_services",
    "has_written_contract",
    "credit_received",
    "credit_amount",
    "credit_source",
    "number_of_buyers",
)
COSTS = ("input_cost", "hired_labour_cost", "other_costs")
APPLIED = {DecisionStatus.ADOPTED.value, DecisionStatus.TRIED.value}


@dataclass
class Resolved:
    """A typed record whose codes were all found: what ``write_rows`` turns into rows."""

    record: dict[str, Any]
    consent: bool
    round: SurveyRound | None = None
    chain: ValueChain | None = None
    firm: Firm | None = None
    functions: list[int] = field(default_factory=list)
    markets: list[int] = field(default_factory=list)  # one per sale
    practices: list[int] = field(default_factory=list)  # one per decision
    reasons: list[tuple[list[int], list[int]]] = field(default_factory=list)  # (main, others) per decision

    @classmethod
    def refusal(cls, record: dict[str, Any]) -> Resolved:
        return cls(record=record, consent=False)

    def fingerprint(self) -> dict[str, Any]:
        return {
            "record": self.record,
            "round": self.round.id if self.round else None,
            "firm": self.firm.id if self.firm else None,
            "functions": sorted(self.functions),
            "markets": self.markets,
            "practices": self.practices,
            "reasons": self.reasons,
        }


def _net_income(observation: dict[str, Any]) -> Decimal | None:
    if observation["net_income"] is not None:
        return Decimal(observation["net_income"])
    if observation["sales_value"] is None:
        return None
    return Decimal(observation["sales_value"]) - sum(
        (Decimal(observation[c]) for c in COSTS if observation[c] is not None), Decimal(0)
    )


def _birth_year(age: int | None, when: dt.datetime | None, fallback: int) -> int | None:
    return None if age is None else (when.year if when else fallback) - age


def write_rows(session: Session, submission: Submission, resolved: Resolved) -> FirmObservation:
    firm, survey_round = resolved.firm, resolved.round
    if firm is None or survey_round is None:
        raise RuntimeError("a consenting record resolves to a firm and a round")
    record = resolved.record
    _update_firm(session, firm, survey_round, record)
    _firm_round(session, firm, survey_round, submission, record["firm"]["participant_status"])
    interview, owner, obs = record["interview"], record["owner"], record["observation"]
    start, end = interview["start"], interview["end"]
    observation = FirmObservation(
        submission_id=submission.id,
        firm_id=firm.id,
        round_id=survey_round.id,
        interview_start=start,
        interview_end=end,
        duration_seconds=int((end - start).total_seconds()) if start and end else None,
        respondent_role=interview["respondent_role"],
        owner_sex=owner["sex"],
        owner_birth_year=_birth_year(owner["age"], end or start, submission.created_at.year),
        owner_education=owner["education"],
        net_income=_net_income(obs),
        **{name: obs[name] for name in OBSERVATION_FIELDS},
    )
    observation.functions = [FunctionPerformed(chain_function_id=pk) for pk in dict.fromkeys(resolved.functions)]
    observation.sales = [
        SaleByChannel(
            end_market_id=market,
            buyer_type=sale["buyer_type"],
            qty=sale["qty"],
            value=sale["value"],
            contract=sale["contract"],
            embedded_services=sale["embedded_services"] or [],
        )
        for sale, market in zip(record["sale"], resolved.markets, strict=True)
    ]
    session.add(observation)
    session.flush()
    for decision, practice, (main, others) in zip(
        record["decision"], resolved.practices, resolved.reasons, strict=True
    ):
        row = UpgradingDecision(
            observation_id=observation.id,
            firm_id=firm.id,
            round_id=survey_round.id,
            practice_id=practice,
            aware=decision["aware"],
            status=DecisionStatus(decision["status"]),
            applied_in_period=decision["status"] in APPLIED,
            first_year_applied=decision["first_year"],
            last_year_applied=decision["last_year"],
            scale_share=decision["scale_share"],
            investment_cost=decision["investment_cost"],
            financing_source=decision["financing_source"],
            information_source=decision["information_source"],
            perceived_benefit=decision["benefit"],
            perceived_cost=decision["cost"],
            perceived_risk=decision["risk"],
        )
        row.reasons = [DecisionReason(reason_code_id=pk, is_main=True) for pk in main] + [
            DecisionReason(reason_code_id=pk, is_main=False) for pk in dict.fromkeys(others) if pk not in main
        ]
        observation.decisions.append(row)
    session.flush()
    mark_stale(session, firm.value_chain_id, survey_round.id, "submission")
    return observation


def _update_firm(session: Session, firm: Firm, survey_round: SurveyRound, record: dict[str, Any]) -> None:
    firm_in, owner = record["firm"], record["owner"]
    firm.is_active = True  # back on the roster if an earlier version of this interview had been set aside
    for name in FIRM_FIELDS:
        if firm_in[name] is not None:
            setattr(firm, name, firm_in[name])
    if firm.baseline_round_id is None and survey_round.kind is RoundKind.BASELINE:
        firm.baseline_round_id = survey_round.id
    personal = {
        "firm_name": firm_in["name"],
        "phone": firm_in["phone"],
        "owner_name": owner["name"],
        "gps_lat": firm_in["gps"]["lat"] if firm_in["gps"] else None,
        "gps_lon": firm_in["gps"]["lon"] if firm_in["gps"] else None,
        "gps_accuracy": (firm_in["gps"] or {}).get("accuracy"),
    }
    if any(v is not None for v in personal.values()):
        contact = session.get(FirmContact, firm.id) or FirmContact(firm_id=firm.id)
        for name, value in personal.items():
            if value is not None:
                setattr(contact, name, value)
        session.add(contact)


def _firm_round(
    session: Session, firm: Firm, survey_round: SurveyRound, submission: Submission, participant: str | None
) -> None:
    row = session.scalar(select(FirmRound).where(FirmRound.firm_id == firm.id, FirmRound.round_id == survey_round.id))
    if row is None:
        row = FirmRound(firm_id=firm.id, round_id=survey_round.id, round_weight=firm.base_weight)
        session.add(row)
    if participant is not None:
        row.participant_status = ParticipantStatus(participant)
    row.interviewed = True
    row.submission_id = submission.id
