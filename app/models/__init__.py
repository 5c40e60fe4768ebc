"""Every table, imported here so that alembic and the app see the whole schema."""

from app.models.catalogue import ChainFunction, EndMarket, ReasonCode, UpgradingPractice, ValueChain
from app.models.form import Form, FormAssignment, FormMedia, FormState, FormVersion
from app.models.submission import Attachment, ReviewState, Submission, SubmissionVersion
from app.models.user import Role, User

__all__ = [
    "Attachment",
    "ChainFunction",
    "EndMarket",
    "Form",
    "FormAssignment",
    "FormMedia",
    "FormState",
    "FormVersion",
    "ReasonCode",
    "ReviewState",
    "Role",
    "Submission",
    "SubmissionVersion",
    "UpgradingPractice",
    "User",
    "ValueChain",
]
