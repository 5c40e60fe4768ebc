"""The OpenRosa blueprint object, shared by the modules that attach routes to it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g

blueprint = Blueprint("openrosa", __name__)


@blueprint.url_value_preprocessor
def _pop_token(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    g.openrosa_token = values.pop("token", None) if values else None


@blueprint.url_defaults
def _keep_token(_endpoint: str, values: dict[str, Any]) -> None:
    token = g.get("openrosa_token")
    if token is not None and "token" not in values:
        values["token"] = token
