"""Every table, imported here so that alembic and the app see the whole schema."""

from app.models.form import Form, FormAssignment, FormMedia, FormState, FormVersion
from app.models.submission import Attachment, ReviewState, Submission, SubmissionVersion
from app.models.user import Role, User

__all__ = [
    "Attachment",
    "Form",
    "FormAssignment",
    "FormMedia",
    "FormState",
    "FormVersion",
    "ReviewState",
    "Role",
    "Submission",
    "SubmissionVersion",
    "User",
]
