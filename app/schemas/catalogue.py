"""The catalogue file (forms/catalogue.yaml): chains, functions, end markets, practices and reason codes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from app.vocab import ReasonCategory, Sector, UpgradingType

CODE = validate.Regexp(r"^[A-Za-z0-9_-]+$", error="Use only letters, digits, '-' and '_' (no spaces).")


def _code(length: int) -> fields.String:
    return fields.String(required=True, validate=[validate.Length(min=1, max=length), CODE])


def _text(length: int = 200) -> fields.String:
    return fields.String(required=True, validate=validate.Length(min=1, max=length))


def _duplicates(codes: Iterable[str]) -> list[str]:
    return sorted(code for code, n in Counter(codes).items() if n > 1)


class Strict(Schema):
    class Meta:
        unknown = RAISE


class ReasonIn(Strict):
    code = _code(48)
    label = _text()
    label_fr = _text()
    category = fields.Enum(ReasonCategory, by_value=True, required=True)


class FunctionIn(Strict):
    code = _code(32)
    name = _text()
    name_fr = _text()
    rank = fields.Integer(required=True, validate=validate.Range(min=0, max=100))


class EndMarketIn(Strict):
    code = _code(32)
    name = _text()
    name_fr = _text()
    tier = fields.Integer(required=True, validate=validate.Range(min=0, max=100))
    export = fields.Boolean(load_default=False)


class PracticeIn(Strict):
    code = _code(48)
    type = fields.Enum(UpgradingType, by_value=True, required=True)
    name = _text()
    name_fr = _text()
    description = fields.String(load_default="")
    promoted = fields.Boolean(load_default=False)
    active = fields.Boolean(load_default=True)
    source = fields.String(load_default="", validate=validate.Length(max=500))
    target_function = fields.String(load_default=None)
    target_end_market = fields.String(load_default=None)

    @validates_schema(skip_on_field_errors=True)
    def _targets(self, data: dict[str, Any], **_kwargs: Any) -> None:
        kind = data["type"]
        if (kind is UpgradingType.FUNCTIONAL) != (data["target_function"] is not None):
            raise ValidationError(
                "A functional practice names its target_function; other types do not.", "target_function"
            )
        if (kind is UpgradingType.CHANNEL) != (data["target_end_market"] is not None):
            raise ValidationError(
                "A channel practice names its target_end_market; other types do not.", "target_end_market"
            )


class ChainIn(Strict):
    code = _code(32)
    name = _text()
    name_fr = _text()
    country_iso3 = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{3}$"))
    product = _text()
    sector = fields.Enum(Sector, by_value=True, required=True)
    currency = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{3}$"))
    reference_period_months = fields.Integer(load_default=12, validate=validate.Range(min=1, max=60))
    high_value_tier = fields.Integer(load_default=None, validate=validate.Range(min=0, max=100))
    illustrative = fields.Boolean(required=True)
    description = fields.String(load_default="")
    sources = fields.List(fields.String(), load_default=list)
    functions = fields.List(fields.Nested(FunctionIn), required=True, validate=validate.Length(min=1))
    end_markets = fields.List(fields.Nested(EndMarketIn), required=True, validate=validate.Length(min=1))
    practices = fields.List(fields.Nested(PracticeIn), required=True, validate=validate.Length(min=1))

    @validates_schema(skip_on_field_errors=True)
    def _consistent(self, data: dict[str, Any], **_kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        for key in ("functions", "end_markets", "practices"):
            if dup := _duplicates(item["code"] for item in data[key]):
                errors.setdefault(key, []).append(f"Duplicate codes: {', '.join(dup)}.")
        functions = {f["code"] for f in data["functions"]}
        lowest_tier = min(m["tier"] for m in data["end_markets"])
        threshold = data["high_value_tier"]
        if threshold is not None and not any(m["tier"] >= threshold for m in data["end_markets"]):
            errors.setdefault("high_value_tier", []).append(f"No end market has tier {threshold} or higher.")
        tiers = {m["code"]: m["tier"] for m in data["end_markets"]}
        for practice in data["practices"]:
            target = practice["target_function"]
            if target is not None and target not in functions:
                errors.setdefault("practices", []).append(
                    f"{practice['code']}: target_function '{target}' is not a function of this chain."
                )
            market = practice["target_end_market"]
            if market is not None and market not in tiers:
                errors.setdefault("practices", []).append(
                    f"{practice['code']}: target_end_market '{market}' is not an end market of this chain."
                )
            elif market is not None and tiers[market] == lowest_tier:
                errors.setdefault("practices", []).append(
                    f"{practice['code']}: a channel practice must lead to a market above the lowest tier."
                )
        if errors:
            raise ValidationError(errors)


class CatalogueIn(Strict):
    reasons = fields.List(fields.Nested(ReasonIn), required=True, validate=validate.Length(min=1))
    chains = fields.List(fields.Nested(ChainIn), required=True, validate=validate.Length(min=1))

    @validates_schema(skip_on_field_errors=True)
    def _unique(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if dup := _duplicates(r["code"] for r in data["reasons"]):
            raise ValidationError(f"Duplicate reason codes: {', '.join(dup)}.", "reasons")
        if dup := _duplicates(c["code"] for c in data["chains"]):
            raise ValidationError(f"Duplicate chain codes: {', '.join(dup)}.", "chains")


def flatten_errors(messages: Any, path: str = "") -> list[str]:
    """marshmallow's nested error dict as ``path: message`` lines (list indexes included)."""
    if isinstance(messages, dict):
        lines: list[str] = []
        for key, value in messages.items():
            lines += flatten_errors(value, f"{path}.{key}" if path else str(key))
        return lines
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [f"{path}: {m}" for m in messages]
    return [f"{path}: {messages}"]
