"""Read and validate the catalogue YAML file into plain dicts (see app/schemas/catalogue.py)."""

from __future__ import annotations

from typing import Any

import yaml
from marshmallow import ValidationError

from app.schemas.catalogue import CatalogueIn, flatten_errors


class CatalogueFileError(ValueError):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def read_catalogue(text: str) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogueFileError([f"not valid YAML: {exc}"]) from exc
    if not isinstance(raw, dict):
        raise CatalogueFileError(["the file must be a mapping with 'reasons' and 'chains'"])
    try:
        loaded: dict[str, Any] = CatalogueIn().load(raw)
    except ValidationError as exc:
        raise CatalogueFileError(flatten_errors(exc.messages)) from exc
    return loaded
