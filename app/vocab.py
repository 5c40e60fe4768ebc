"""Controlled vocabularies shared by models, schemas and forms. Plain enums: no database, no Flask."""

from __future__ import annotations

import enum


class Sector(enum.StrEnum):
    AGRICULTURE = "agriculture"
    HANDICRAFT = "handicraft"
    OTHER = "other"


class UpgradingType(enum.StrEnum):
    """The four ways an MSE upgrades (../shared/docs/domain.md)."""

    PROCESS = "process"
    PRODUCT = "product"
    FUNCTIONAL = "functional"
    CHANNEL = "channel"


class ReasonCategory(enum.StrEnum):
    INFORMATION = "information"
    COST_FINANCE = "cost_finance"
    RISK = "risk"
    MARKET = "market"
    TIME = "time"
    CAPABILITY = "capability"
    INPUTS = "inputs"
    SOCIAL_GENDER = "social_gender"
    TRIED_FAILED = "tried_failed"
    OTHER = "other"


class RoundKind(enum.StrEnum):
    BASELINE = "baseline"
    MIDLINE = "midline"
    ENDLINE = "endline"
    MONITORING = "monitoring"


class RoundStatus(enum.StrEnum):
    PLANNED = "planned"
    OPEN = "open"
    CLOSED = "closed"
    LOCKED = "locked"


class ParticipantStatus(enum.StrEnum):
    PARTICIPANT = "participant"
    COMPARISON = "comparison"
    UNKNOWN = "unknown"


class DecisionStatus(enum.StrEnum):
    ADOPTED = "adopted"
    TRIED = "tried"
    ABANDONED = "abandoned"
    NOT_ADOPTED = "not_adopted"


class ProcessingStatus(enum.StrEnum):
    """What became of a submission after it was stored (the raw XML is kept whatever the outcome)."""

    MAPPED = "mapped"  # domain rows derived
    NEEDS_REVIEW = "needs_review"  # mapping or validation failed; errors listed; no domain rows
    DUPLICATE = "duplicate"  # another submission already counts for this firm and round
    REFUSED = "refused"  # the respondent did not consent: no domain rows
    NOT_MAPPED = "not_mapped"  # the form declares no mapping, or the submission is encrypted


SEXES = ("female", "male", "other", "undisclosed")
EDUCATION = ("none", "primary", "secondary", "tertiary")
RESPONDENT_ROLES = ("owner", "co_owner", "spouse", "manager", "other")
URBAN_RURAL = ("urban", "rural")
LEGAL_STATUS = ("informal", "registered", "cooperative")
FINANCING_SOURCES = (
    "own_savings",
    "buyer_credit",
    "input_supplier_credit",
    "mfi_or_bank",
    "group",
    "project_subsidy",
    "other",
)
INFORMATION_SOURCES = (
    "buyer_lead_firm",
    "input_supplier",
    "project_extension",
    "other_farmer_group",
    "media",
    "ngo",
    "other",
)
BUYER_TYPES = ("broker", "trader", "exporter", "processor", "retailer", "cooperative", "consumer")
EMBEDDED_SERVICES = ("inputs_on_credit", "technical_assistance", "grading_info", "transport", "prepayment")
