"""Test tooling for the KoboToolbox integration: KoBo's own flattening, forms from KPI content, xlsx bytes.

``flatten_instance`` does what KoBoCAT does to a stored instance to make the JSON record the REST services and the
data API send (kobo.md §1.2: root dropped, slash paths, repeats as lists of full-path dicts, empty leaves
dropped); tests/unit/test_kobo_adapter.py checks it against KoBoCAT's expected output for a real instance, so
that the records it makes from our instances have KoBo's real shape.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from app.ingest.kobo import SYSTEM_KEYS
from app.ingest.xmltree import XNode, parse
from tests.conftest import SHARED

KOBO = SHARED / "kobo"
MOCKS = KOBO / "rest_payloads" / "kpi_jsapp_mocks"


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _flatten(node: XNode, prefix: str, repeats: set[str], out: dict[str, Any]) -> None:
    for child in node.children:
        path = f"{prefix}{child.tag}"
        if path in repeats:
            item: dict[str, Any] = {}
            _flatten(child, path + "/", repeats, item)
            out.setdefault(path, []).append(item)
        elif child.children:
            _flatten(child, path + "/", repeats, out)
        elif child.text.strip():
            out[path] = child.text.strip()


def flatten_instance(xml: bytes, repeats: Iterable[str] = ()) -> dict[str, Any]:
    """KoBoCAT's flat dict of an instance: what KoBo sends as JSON, before its ``_`` keys are added."""
    out: dict[str, Any] = {}
    _flatten(parse(xml), "", set(repeats), out)
    return out


def kobo_record(
    xml: bytes,
    repeats: Iterable[str] = (),
    *,
    kobo_id: int,
    asset_uid: str = "aKoboAssetUid0000000001",
    version: str = "vKpiVersion000000000001",
    submission_time: str = "2026-11-10T06:55:00",
    root_uuid: str | None = None,
) -> dict[str, Any]:
    """A complete KoBo JSON record (current KPI shape, kobo.md §1.2) for an OpenRosa instance."""
    answers = flatten_instance(xml, repeats)
    instance_id = answers["meta/instanceID"]
    return {
        "_id": kobo_id,
        "formhub/uuid": "b26f2a9b9b7a49608920ad76cba3c315",
        **answers,
        "__version__": version,
        "meta/rootUuid": root_uuid or instance_id,
        "_xform_id_string": asset_uid,
        "_uuid": instance_id.removeprefix("uuid:"),
        "_attachments": [],
        "_status": "submitted_via_web",
        "_geolocation": [None, None],
        "_submission_time": submission_time,
        "_validation_status": {},
        "_submitted_by": None,
    }


def edited(record: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """KoBo's edit of a record: same _id and rootUuid, new _uuid/instanceID, deprecatedID = the previous one."""
    new_uuid = str(uuid.uuid4())
    return {
        **record,
        **changes,
        "meta/instanceID": f"uuid:{new_uuid}",
        "meta/deprecatedID": record["meta/instanceID"],
        "_uuid": new_uuid,
    }


def answers_of(record: Mapping[str, Any]) -> dict[str, Any]:
    """The answers in a record (KoBo's metadata keys removed), as ``flatten_instance`` gives them back."""

    def clean(data: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in data.items():
            if key in SYSTEM_KEYS or value is None or value == "":
                continue
            out[key] = [clean(item) for item in value] if isinstance(value, list) else str(value)
        return out

    return clean(record)


def list_keys(record: Mapping[str, Any]) -> set[str]:
    """Every repeat path in a record (list-valued keys at any depth)."""
    found: set[str] = set()
    for key, value in record.items():
        if isinstance(value, list) and key not in {"_attachments", "_geolocation", "_tags", "_notes"}:
            found.add(key)
            for item in value:
                found |= list_keys(item)
    return found


# -- forms ----------------------------------------------------------------------------------------------------


def md_form(survey: list[list[str]], choices: list[list[str]], settings: Mapping[str, str]) -> bytes:
    """A pyxform markdown form from rows (first row of each sheet = headers)."""
    lines = ["| survey |"]
    lines += ["| | " + " | ".join(row) + " |" for row in survey]
    if len(choices) > 1:
        lines.append("| choices |")
        lines += ["| | " + " | ".join(row) + " |" for row in choices]
    lines.append("| settings |")
    lines.append("| | " + " | ".join(settings) + " |")
    lines.append("| | " + " | ".join(settings.values()) + " |")
    return ("\n".join(lines) + "\n").encode()


def kpi_content_form(survey: list[dict[str, Any]], choices: list[dict[str, Any]], form_id: str) -> bytes:
    """The XLSForm (pyxform markdown) of a KPI asset's ``content`` rows, for plain question types."""
    rows = [["type", "name", "label"]]
    for row in survey:
        kind = row["type"]
        if kind.startswith("end_"):
            rows.append([kind, "", ""])
            continue
        if row.get("select_from_list_name"):
            kind = f"{kind} {row['select_from_list_name']}"
        label = (row.get("label") or [""])[0] or ""
        rows.append([kind, row.get("name") or row["$autoname"], label.replace("|", "/")])
    choice_rows = [["list_name", "name", "label"]]
    choice_rows += [[c["list_name"], c["name"], (c.get("label") or [c["name"]])[0]] for c in choices]
    return md_form(rows, choice_rows, {"form_id": form_id, "version": "1"})


def xlsx_from_md(md: bytes) -> bytes:
    """The same form as an .xlsx workbook (what KPI serves at /api/v2/assets/{uid}.xls)."""
    workbook = Workbook()
    sheet = None
    for line in md.decode().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.strip():
            continue
        if cells[0]:
            sheet = workbook.active if sheet is None else workbook.create_sheet()
            sheet.title = cells[0]
            continue
        assert sheet is not None
        sheet.append(cells[1:])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
