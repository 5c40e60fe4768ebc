"""marshmallow fields for answers as phones send them: strings, empty meaning 'not answered'."""

# ruff: noqa: ARG002 - the overrides keep marshmallow's signature

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from marshmallow import ValidationError, fields

TRUE = {"yes", "true", "1"}
FALSE = {"no", "false", "0"}


class YesNo(fields.Field[bool]):
    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> bool:
        text = str(value).strip().lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise ValidationError(f"Expected yes or no, got '{value}'.")


class Choice(fields.String):
    def __init__(self, choices: Iterable[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.choices = tuple(choices)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if text not in self.choices:
            raise ValidationError(f"'{text}' is not one of: {', '.join(self.choices)}.")
        return text


class MultiChoice(fields.Field[list[str]]):
    """Space-separated codes (select_multiple); ``choices=None`` accepts any code (checked later)."""

    def __init__(self, choices: Iterable[str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.choices = tuple(choices) if choices is not None else None

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> list[str]:
        codes = list(dict.fromkeys(str(value).split()))
        if self.choices is not None:
            unknown = [c for c in codes if c not in self.choices]
            if unknown:
                raise ValidationError(f"{', '.join(unknown)}: not one of {', '.join(self.choices)}.")
        return codes


class GeoPoint(fields.Field[dict[str, float]]):
    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> dict[str, float]:
        parts = str(value).split()
        try:
            numbers = [float(p) for p in parts]
        except ValueError as exc:
            raise ValidationError("Expected 'latitude longitude [altitude [accuracy]]'.") from exc
        if not 2 <= len(numbers) <= 4 or not (-90 <= numbers[0] <= 90 and -180 <= numbers[1] <= 180):
            raise ValidationError("Expected 'latitude longitude [altitude [accuracy]]' within range.")
        point = {"lat": numbers[0], "lon": numbers[1]}
        if len(numbers) == 4:
            point["accuracy"] = numbers[3]
        return point
