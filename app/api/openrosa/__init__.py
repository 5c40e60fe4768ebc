"""The OpenRosa server for ODK Collect, KoboCollect and Enketo (../shared/docs/openrosa.md)."""

from app.api.openrosa import forms, responses, submission
from app.api.openrosa.blueprint import blueprint

__all__ = ["blueprint", "forms", "responses", "submission"]
