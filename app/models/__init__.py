"""Every table, imported here so that alembic and the app see the whole schema."""

from app.models.audit import AuditEvent
from app.models.catalogue import ChainFunction, EndMarket, ReasonCode, UpgradingPractice, ValueChain
from app.models.form import Form, FormAssignment, FormMedia, FormState, FormVersion
from app.models.indicator import IndicatorMark, IndicatorResult, IndicatorSet
from app.models.job import JobRun, JobStatus
from app.models.kobo import (
    KoboAsset,
    KoboAuthMode,
    KoboFormVersion,
    KoboHook,
    KoboPayload,
    KoboRecord,
    KoboSource,
    KoboSyncRun,
    SyncStatus,
)
from app.models.observation import (
    DecisionReason,
    FirmObservation,
    FunctionPerformed,
    SaleByChannel,
    UpgradingDecision,
)
from app.models.panel import Firm, FirmContact, FirmRound, SurveyRound
from app.models.review import SubmissionReview
from app.models.submission import Attachment, ReviewState, Submission, SubmissionVersion
from app.models.token import ApiToken
from app.models.user import Role, User

__all__ = [
    "ApiToken",
    "Attachment",
    "AuditEvent",
    "ChainFunction",
    "DecisionReason",
    "EndMarket",
    "Firm",
    "FirmContact",
    "FirmObservation",
    "FirmRound",
    "Form",
    "FormAssignment",
    "FormMedia",
    "FormState",
    "FormVersion",
    "FunctionPerformed",
    "IndicatorMark",
    "IndicatorResult",
    "IndicatorSet",
    "JobRun",
    "JobStatus",
    "KoboAsset",
    "KoboAuthMode",
    "KoboFormVersion",
    "KoboHook",
    "KoboPayload",
    "KoboRecord",
    "KoboSource",
    "KoboSyncRun",
    "ReasonCode",
    "ReviewState",
    "Role",
    "SaleByChannel",
    "Submission",
    "SubmissionReview",
    "SubmissionVersion",
    "SurveyRound",
    "SyncStatus",
    "UpgradingDecision",
    "UpgradingPractice",
    "User",
    "ValueChain",
]
