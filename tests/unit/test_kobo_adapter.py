"""app/ingest/kobo.py on the real KoBo payloads in ../shared/fixtures/kobo (read from there, never copied)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.ingest.instance import read_instance
from app.ingest.kobo import (
    FormShape,
    KoboRecordError,
    form_shape,
    json_identity,
    read_json_record,
    record_to_xml,
    xml_identity,
)
from app.ingest.xlsform import convert_xlsform
from tests.kobo_helpers import KOBO, MOCKS, answers_of, flatten_instance, kpi_content_form, list_keys, load_json

TRANSPORT = KOBO / "openrosa_xml" / "transportation"
EMPTY_FORM = b"""
| survey |
| | type | name | label |
| | text | note | Note |
| settings |
| | form_id | version |
| | any_form | 1 |
"""


def _real_records() -> list[tuple[str, dict[str, Any]]]:
    records = [(p.name, load_json(p)) for p in sorted(MOCKS.glob("*Submission*.json"))]
    records += [
        ("hope", r) for r in load_json(KOBO / "rest_payloads/hope_household_registration/kobo_submissions.json")
    ]
    records.append(("n8n", load_json(KOBO / "rest_payloads/n8n_docs_field_details/record.json")))
    for page in ("data_page1.json", "data_page2.json"):
        records += [(page, r) for r in load_json(KOBO / "data_api_pages/gc_scripts_hub_arboles" / page)["results"]]
    return records


REAL = _real_records()


def _shape(md: bytes, name: str = "form.md") -> tuple[FormShape, str]:
    xform = convert_xlsform(md, name).xform
    return form_shape(xform), xform.decode()


def test_the_flattening_helper_is_kobocats() -> None:
    """tests.kobo_helpers.flatten_instance gives exactly KoBoCAT's flat dict for a real instance."""
    expected = load_json(TRANSPORT / "expected_dicts_for_instance_f3d8dc65.json")["expected_flat_get_dict"]
    flat = flatten_instance((TRANSPORT / "instance_f3d8dc65.xml").read_bytes())
    assert flat == {k: v for k, v in expected.items() if k != "_xform_id_string"}


@pytest.mark.parametrize(("name", "record"), REAL, ids=[n for n, _ in REAL])
def test_every_real_record_becomes_an_instance_holding_all_its_answers(name: str, record: dict[str, Any]) -> None:
    shape, _ = _shape(EMPTY_FORM)
    xml = record_to_xml(record, shape, form_id="any_form", version="1")
    instance = read_instance(xml)
    identity = json_identity(record)
    assert instance.form_id == "any_form" and instance.version == "1"
    assert instance.instance_id == identity.instance_id == record["meta/instanceID"]
    assert instance.deprecated_id == record.get("meta/deprecatedID")
    # group paths, repeats as lists, nested repeats, values as sent: flattening it again gives the record back
    assert flatten_instance(xml, list_keys(record)) == answers_of(record)
    assert identity.kobo_id == record["_id"]
    assert identity.root_uuid == record.get("meta/rootUuid")
    assert identity.kpi_version == record["__version__"]
    assert identity.submission_time is not None and identity.submission_time.tzinfo is not None


@pytest.mark.parametrize("name", ["simpleSurvey", "repeatSurvey", "nestedRepeatSurvey"])
def test_records_follow_the_structure_of_their_form(name: str) -> None:
    choices = MOCKS / f"{name}Choices.json"
    form = kpi_content_form(load_json(MOCKS / f"{name}.json"), load_json(choices) if choices.exists() else [], name)
    shape, _ = _shape(form, f"{name}.md")
    record = load_json(MOCKS / f"{name}Submission.json")
    xml = record_to_xml(record, shape, form_id=name, version="1")
    root = read_instance(xml).root
    assert root.tag == shape.root_tag
    assert flatten_instance(xml, shape.repeats) == answers_of(record)
    # the form's questions come first, in its order; unanswered ones are empty elements, as Collect sends them
    form_order = [node.name for node in shape.children]
    assert list(dict.fromkeys(c.tag for c in root.children))[: len(form_order)] == form_order
    if name == "repeatSurvey":
        first, second = root.find("group_members")
        assert [c.tag for c in second.children] == ["First_name", "Middle_name", "Last_name"]
        assert second.children[0].text == "" and second.children[2].text == "Niepietrzak"
        assert first.children[1].text == "Jan"


def test_transportation_edit_round_trips_with_kobos_injected_formhub() -> None:
    shape = form_shape((TRANSPORT / "xform_with_formhub_uuid.xml").read_bytes())
    edit = read_instance((TRANSPORT / "instance_edited_with_deprecatedID.xml").read_bytes())
    identity = xml_identity(edit)
    assert identity.deprecated_id == "uuid:7a9ba167019a4152a31e46049587d672"
    assert identity.kobo_id is None and identity.root_uuid is None
    record = {**flatten_instance((TRANSPORT / "instance_edited_with_deprecatedID.xml").read_bytes()), "_id": 9}
    xml = record_to_xml(record, shape, form_id="transportation_2011_07_25", version="")
    again = read_instance(xml)
    assert again.values_at(
        "transport/loop_over_transport_types_frequency/ambulance/frequency_to_referral_facility"
    ) == ["monthly"]
    assert again.values_at("formhub/uuid") == [""]  # in the form, not in the record: an empty element


def test_the_instance_id_is_built_from_uuid_when_meta_is_missing() -> None:
    shape, _ = _shape(EMPTY_FORM)
    xml = record_to_xml({"_id": 3, "_uuid": "abc", "note": "x"}, shape, form_id="any_form", version="1")
    assert read_instance(xml).instance_id == "uuid:abc"


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"_id": 1, "note": "x"}, "no meta/instanceID"),
        ({"meta/instanceID": "uuid:1", "bad key": "x"}, "not a question path"),
        ({"meta/instanceID": "uuid:1", "a/<b": "x"}, "not a question path"),
        ({"meta/instanceID": "uuid:1", "note": {"nested": "object"}}, "where an answer"),
        ({"meta/instanceID": "uuid:1", "note": "bell\x07"}, "XML cannot hold"),
        ({"meta/instanceID": "uuid:1", "rep": ["not an object"]}, "list of objects"),
        ({"meta/instanceID": "uuid:1", "rep": [{"other/x": "1"}]}, "does not start with it"),
        ({"meta/instanceID": 5}, "must be a string"),
        ({"meta/instanceID": "uuid:1", "_id": "twelve"}, "integer"),
        ({"meta/instanceID": "uuid:" + "x" * 300}, "longer than"),
    ],
)
def test_records_we_cannot_store_are_refused_with_a_reason(record: dict[str, Any], message: str) -> None:
    shape, _ = _shape(EMPTY_FORM)
    with pytest.raises(KoboRecordError, match=message):
        record_to_xml(record, shape, form_id="any_form", version="1")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[]", "JSON object"),
        (b"{", "not valid JSON"),
        (b"\xff\xfe", "UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply|not valid JSON"),
        (b'{"fields": %SUBMISSION%}', "not valid JSON"),
    ],
)
def test_bodies_that_are_not_one_record_are_refused(body: bytes, message: str) -> None:
    with pytest.raises(KoboRecordError, match=message):
        read_json_record(body)


def test_deeply_nested_repeats_are_refused() -> None:
    record: dict[str, Any] = {"meta/instanceID": "uuid:1"}
    inner: dict[str, Any] = record
    path = "r"
    for _ in range(40):
        item: dict[str, Any] = {}
        inner[path] = [item]
        inner, path = item, f"{path}/r"
    shape, _ = _shape(EMPTY_FORM)
    with pytest.raises(KoboRecordError, match="nested too deeply"):
        record_to_xml(record, shape, form_id="any_form", version="1")


def test_a_real_record_is_read_whole() -> None:
    body = (MOCKS / "everythingSurveySubmission.json").read_bytes()
    assert read_json_record(body) == json.loads(body)
