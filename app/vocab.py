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
