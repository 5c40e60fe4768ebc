"""The mapping a form declares (``chainlift:field`` / ``chainlift:values`` on its binds), and applying it.

See docs/mapping.md. Reading happens once, at publish time; the result is stored with the form version as plain
JSON. Applying it to an instance gives a *record*: plain strings grouped by entity, ready for the schemas in
app/schemas/record.py, plus where each value came from so that errors can name the form's own question.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from app.ingest.xmltree import XNode
from app.schemas.record import FIELDS, REPEATED_ENTITIES

NAMESPACE = "https://chainlift.org/xforms/mapping"


class MappingError(ValueError):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def _prefix(html: XNode) -> str | None:
    for name, value in html.attrs.items():
        if name.startswith("xmlns:") and value == NAMESPACE:
            return name.removeprefix("xmlns:")
    return None


def _values(raw: str | None, path: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in (raw or "").split():
        source, sep, target = item.partition("=")
        if not sep or not source or not target:
            raise MappingError([f"{path}: chainlift:values needs from=to pairs, got '{item}'"])
        pairs[source] = target
    return pairs


def read_mapping(html: XNode, root_tag: str) -> dict[str, Any]:
    """{"fields": [{"path", "field", "values", "repeat"}...]} from an XForm; {} when it declares none."""
    prefix = _prefix(html)
    head = html.child("head")
    model = head.child("model") if head is not None else None
    if prefix is None or model is None:
        return {}
    strip = f"/{root_tag}/"
    repeats = sorted(
        (
            node.attrs["nodeset"].removeprefix(strip)
            for node in html.walk()
            if node.tag == "repeat" and "nodeset" in node.attrs
        ),
        key=len,
        reverse=True,
    )
    fields: list[dict[str, Any]] = []
    errors: list[str] = []
    for bind in (c for c in model.children if c.tag == "bind"):
        target = bind.attrs.get(f"{prefix}:field")
        if not target:
            continue
        path = bind.attrs.get("nodeset", "").removeprefix(strip)
        if target not in FIELDS:
            errors.append(f"{path}: unknown field '{target}' (see docs/mapping.md)")
            continue
        try:
            values = _values(bind.attrs.get(f"{prefix}:values"), path)
        except MappingError as exc:
            errors += exc.errors
            continue
        repeat = next((r for r in repeats if path.startswith(r + "/")), None)
        fields.append({"path": path, "field": target, "values": values, "repeat": repeat})
    errors += _check_structure(fields)
    if errors:
        raise MappingError(errors)
    return {"fields": fields} if fields else {}


def _check_structure(fields: list[dict[str, Any]]) -> list[str]:
    errors: list[str] = []
    targets = [f["field"] for f in fields]
    errors += [
        f"{dup} is filled by more than one question" for dup in sorted({t for t in targets if targets.count(t) > 1})
    ]
    repeats: dict[str, set[str | None]] = defaultdict(set)
    for f in fields:
        entity = f["field"].split(".")[0]
        if entity in REPEATED_ENTITIES:
            repeats[entity].add(f["repeat"])
            if f["repeat"] is None:
                errors.append(f"{f['path']}: {f['field']} must be inside a repeat (one {entity} per repetition)")
        elif f["repeat"] is not None:
            errors.append(f"{f['path']}: {f['field']} must not be inside a repeat")
    for entity, found in repeats.items():
        if len(found - {None}) > 1:
            errors.append(f"all {entity}.* questions must be in the same repeat")
    return errors


@dataclass
class Extracted:
    """Plain strings by entity (repeated entities as lists), and the form path behind every value."""

    record: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)


def _text(node: XNode | None) -> str | None:
    if node is None:
        return None
    value = node.text.strip()
    return value or None


def _translate(value: str | None, values: dict[str, str]) -> str | None:
    if value is None or not values:
        return value
    return " ".join(values.get(part, part) for part in value.split())


def extract(root: XNode, mapping: dict[str, Any]) -> Extracted:
    out = Extracted()
    grouped: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for f in mapping.get("fields", []):
        grouped[f["repeat"]].append(f)
    for f in grouped.pop(None, []):
        entity, name = f["field"].split(".")
        nodes = root.find(f["path"])
        out.record.setdefault(entity, {})[name] = _translate(_text(nodes[0] if nodes else None), f["values"])
        out.sources[f["field"]] = f["path"]
    for repeat, repeat_fields in grouped.items():
        assert repeat is not None  # noqa: S101 - popped above
        entity = repeat_fields[0]["field"].split(".")[0]
        rows = out.record.setdefault(entity, [])
        for index, node in enumerate(root.find(repeat)):
            row: dict[str, str | None] = {}
            for f in repeat_fields:
                name = f["field"].split(".")[1]
                relative = f["path"].removeprefix(repeat + "/")
                found = node.find(relative)
                row[name] = _translate(_text(found[0] if found else None), f["values"])
                out.sources[f"{entity}[{index}].{name}"] = f"{repeat}[{index + 1}]/{relative}"
            rows.append(row)
    return out
