"""KoboToolbox records (REST-service JSON, data-API records, or the XML variant) read into our one internal shape.

A KoBo JSON record (../shared/docs/kobo.md §1.2) is KoBoCAT's flattening of the OpenRosa instance the phone sent:
slash-joined paths without the root node, repeats as lists of dicts whose keys are full paths, every answer a
string, unanswered questions left out, and KoBo's own ``_``-keys beside them. This module undoes the flattening
with the form's structure: the result is the instance XML a phone would have sent for our form version (same
groups, repeats in order, empty elements for unanswered questions), which ``read_instance`` then reads like any
other submission, so mapping, validation, review and indicators see no difference. Keys the form does not know
(``formhub/uuid``, ``__version__``, ``meta/rootUuid``, questions of an older form version) are kept as elements
at their path. Values are kept as the strings they are: typing them is the mapping's job, as for OpenRosa.

Pure: no database, no Flask. See docs/kobo-integration.md.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET  # building XML only; untrusted XML is parsed with defusedxml (xmltree)
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.ingest.instance import MAX_ID_LENGTH, Instance
from app.ingest.xmltree import XmlError, XNode, parse

# KoBo's record metadata (kobo.md §1.2, §2.3): not answers, never part of the instance.
SYSTEM_KEYS = frozenset(
    {
        "_id",
        "_uuid",
        "_attachments",
        "_bamboo_dataset_id",
        "_geolocation",
        "_status",
        "_submission_time",
        "_submitted_by",
        "_validation_status",
        "_xform_id_string",
        "_tags",
        "_notes",
        "_supplementalDetails",
    }
)
NAME = re.compile(r"^[^\W\d][\w.-]*$")  # an XML element name without a prefix (XLSForm names are a subset)
INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
MAX_NESTING = 32


class KoboRecordError(ValueError):
    """The payload is not a KoBo record we can store; the message says why (the sender gets a 4xx)."""


@dataclass(frozen=True)
class KoboIdentity:
    """Who a record is in KoBo: ``kobo_id``/``root_uuid`` name the logical submission, ``instance_id`` the version."""

    instance_id: str
    kobo_id: int | None = None
    root_uuid: str | None = None
    deprecated_id: str | None = None
    kpi_version: str | None = None  # __version__: the KPI deployed version the form was filled with
    submission_time: dt.datetime | None = None
    submitted_by: str | None = None
    device_id: str | None = None


@dataclass
class ShapeNode:
    name: str
    path: str
    kind: str  # "leaf", "group" or "repeat"
    children: list[ShapeNode] = field(default_factory=list)


@dataclass(frozen=True)
class FormShape:
    """The structure of a form's primary instance: what a KoBo record is rebuilt into."""

    root_tag: str
    children: tuple[ShapeNode, ...]
    repeats: frozenset[str]


# -- reading payloads -----------------------------------------------------------------------------------------


def read_json_record(body: bytes) -> dict[str, Any]:
    """The JSON object KoBo posted; refused with a reason if it is not one."""
    try:
        record = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise KoboRecordError("The body is not UTF-8 text.") from exc
    except RecursionError as exc:
        raise KoboRecordError("The JSON is nested too deeply.") from exc
    except json.JSONDecodeError as exc:
        raise KoboRecordError(f"The body is not valid JSON ({exc.msg} at line {exc.lineno}).") from exc
    if not isinstance(record, dict):
        raise KoboRecordError("Expected one KoBo submission as a JSON object (no payload template or list).")
    return record


def _string(record: Mapping[str, Any], key: str) -> str | None:
    value = record.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise KoboRecordError(f"'{key}' must be a string, got {type(value).__name__}.")
    if len(value) > MAX_ID_LENGTH:
        raise KoboRecordError(f"'{key}' is longer than {MAX_ID_LENGTH} characters.")
    return value


def _submission_time(value: Any) -> dt.datetime | None:
    """``_submission_time`` is server UTC without a zone (``%Y-%m-%dT%H:%M:%S``)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _kobo_id(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise KoboRecordError("'_id' must be an integer.")
    if isinstance(value, str) and not value.isdigit():
        raise KoboRecordError("'_id' must be an integer.")
    number = int(value)
    if not 0 < number < 2**63:
        raise KoboRecordError("'_id' is out of range.")
    return number


def json_identity(record: Mapping[str, Any]) -> KoboIdentity:
    """The identity of a JSON record. ``meta/instanceID`` is required, or ``_uuid`` to build it from."""
    instance_id = _string(record, "meta/instanceID")
    uuid = _string(record, "_uuid")
    if instance_id is None and uuid is not None:
        instance_id = f"uuid:{uuid}"
    if instance_id is None:
        raise KoboRecordError(
            "The record has no meta/instanceID (nor _uuid). If the REST service sends a subset of fields, "
            "include meta and _id."
        )
    submitted_by = record.get("_submitted_by")
    return KoboIdentity(
        instance_id=instance_id,
        kobo_id=_kobo_id(record.get("_id")),
        root_uuid=_string(record, "meta/rootUuid"),
        deprecated_id=_string(record, "meta/deprecatedID"),
        kpi_version=_string(record, "__version__"),
        submission_time=_submission_time(record.get("_submission_time")),
        submitted_by=submitted_by[:150] if isinstance(submitted_by, str) and submitted_by else None,
        device_id=(record["deviceid"][:255] or None) if isinstance(record.get("deviceid"), str) else None,
    )


def _first_text(root: XNode, path: str) -> str | None:
    nodes = root.find(path)
    value = nodes[0].text.strip() if nodes and not nodes[0].children else ""
    return value[:MAX_ID_LENGTH] or None


def xml_identity(instance: Instance) -> KoboIdentity:
    """The identity of an XML payload (kobo.md §1.3): no ``_id`` there, only the instance's own meta."""
    return KoboIdentity(
        instance_id=instance.instance_id,
        root_uuid=_first_text(instance.root, "meta/rootUuid"),
        deprecated_id=instance.deprecated_id,
        kpi_version=_first_text(instance.root, "__version__"),
        device_id=_first_text(instance.root, "deviceid"),
    )


# -- the form's structure -------------------------------------------------------------------------------------


def form_shape(xform: bytes) -> FormShape:
    """Groups, repeats and questions of an XForm's primary instance, in the form's order."""
    try:
        html = parse(xform)
    except XmlError as exc:
        raise KoboRecordError(f"The form cannot be read: {exc}") from exc
    head = html.child("head")
    model = head.child("model") if head is not None else None
    instance = next(
        (c for c in (model.children if model is not None else []) if c.tag == "instance" and c.attr("id") is None),
        None,
    )
    if instance is None or len(instance.children) != 1:
        raise KoboRecordError("The form has no primary instance.")
    root = instance.children[0]
    prefix = f"/{root.tag}/"
    repeats = {
        node.attrs["nodeset"].removeprefix(prefix)
        for node in html.walk()
        if node.tag == "repeat" and "nodeset" in node.attrs
    }
    repeats |= {path for path, node in _paths(root) if node.attr("template") is not None}
    return FormShape(root.tag, tuple(_shape(root, "", repeats)), frozenset(repeats))


def _paths(root: XNode) -> list[tuple[str, XNode]]:
    found: list[tuple[str, XNode]] = []
    stack = [(c, c.tag) for c in root.children]
    while stack:
        node, path = stack.pop()
        found.append((path, node))
        stack.extend((c, f"{path}/{c.tag}") for c in node.children)
    return found


def _shape(node: XNode, prefix: str, repeats: set[str]) -> list[ShapeNode]:
    out: list[ShapeNode] = []
    seen: set[str] = set()
    for child in node.children:
        path = f"{prefix}{child.tag}"
        if path in seen:  # a repeat's template followed by its default instance: one shape
            continue
        seen.add(path)
        kind = "repeat" if path in repeats else "group" if child.children else "leaf"
        out.append(ShapeNode(child.tag, path, kind, _shape(child, path + "/", repeats)))
    return out


# -- KoBo JSON to instance XML --------------------------------------------------------------------------------


def _text(value: Any, key: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int | float | str):
        text = str(value)
    else:
        raise KoboRecordError(f"'{key}' holds a {type(value).__name__} where an answer (a string) belongs.")
    if INVALID_XML_CHARS.search(text):
        raise KoboRecordError(f"'{key}' contains characters that XML cannot hold.")
    return text


def _segments(key: str) -> list[str]:
    parts = key.split("/")
    for part in parts:
        if not NAME.match(part):
            raise KoboRecordError(f"'{key}' is not a question path ('{part}' cannot be an element name).")
    return parts


def _is_answer(key: str, value: Any) -> bool:
    if key in SYSTEM_KEYS:
        return False
    # Unknown KoBo metadata of later versions: a "_" key whose value is not an answer (answers are strings).
    return not (key.startswith("_") and not key.startswith("__") and "/" not in key and not isinstance(value, str))


def _fill(element: ET.Element, nodes: list[ShapeNode], data: Mapping[str, Any], used: set[str], depth: int) -> None:
    for node in nodes:
        if node.kind == "repeat":
            used.add(node.path)
            _repeat(element, node.name, node.path, data.get(node.path), node.children, depth=depth)
        elif node.kind == "group":
            _fill(ET.SubElement(element, node.name), node.children, data, used, depth)
        else:
            child = ET.SubElement(element, node.name)
            if node.path in data:
                used.add(node.path)
                child.text = _text(data[node.path], node.path)


def _repeat(
    parent: ET.Element, name: str, path: str, items: Any, children: list[ShapeNode], *, depth: int
) -> list[ET.Element]:
    if items is None:
        return []
    if depth >= MAX_NESTING:
        raise KoboRecordError(f"'{path}': repeats are nested too deeply.")
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise KoboRecordError(f"'{path}' is a repeat: expected a list of objects.")
    made = []
    for item in items:
        element = ET.SubElement(parent, name)
        used: set[str] = set()
        _fill(element, children, item, used, depth + 1)
        _extras(element, item, used, path, depth + 1)
        made.append(element)
    return made


def _extras(element: ET.Element, data: Mapping[str, Any], used: set[str], base: str, depth: int) -> None:
    """Answers the form does not declare, kept at their path (creating the groups they sit in)."""
    for key, value in data.items():
        if key in used or (not base and not _is_answer(key, value)):
            continue
        if base and not key.startswith(base + "/"):
            raise KoboRecordError(f"'{key}' is inside the repeat '{base}' but its path does not start with it.")
        parts = _segments(key[len(base) + 1 :] if base else key)
        parent = element
        for part in parts[:-1]:
            found = parent.find(part)
            parent = found if found is not None else ET.SubElement(parent, part)
        if isinstance(value, list):
            _repeat(parent, parts[-1], key, value, [], depth=depth)
            continue
        existing = parent.find(parts[-1])
        if existing is not None and existing.text is None and len(existing) == 0:
            existing.text = _text(value, key)
        else:
            ET.SubElement(parent, parts[-1]).text = _text(value, key)


def record_to_xml(record: Mapping[str, Any], shape: FormShape, *, form_id: str, version: str) -> bytes:
    """The OpenRosa instance of form ``form_id`` version ``version`` that this KoBo JSON record flattens."""
    identity = json_identity(record)
    data = dict(record)
    data["meta/instanceID"] = identity.instance_id
    root = ET.Element(shape.root_tag, {"id": form_id, **({"version": version} if version else {})})
    used: set[str] = set()
    _fill(root, list(shape.children), data, used, 0)
    _extras(root, data, used, "", 0)
    xml: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return xml
