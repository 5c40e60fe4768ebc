"""Publishing XLSForms and XForms: conversion, versions, media."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.errors import ConflictError, InvalidError
from tests.conftest import ROOT, SHARED
from tests.helpers import Factory

KOBO_XLSFORMS = SHARED / "kobo" / "xlsforms"


def test_our_forms_convert_without_warnings(factory: Factory) -> None:
    sources = sorted(p for p in (ROOT / "forms").iterdir() if p.suffix in {".xlsx", ".xls", ".xml"})
    assert sources, "forms/ holds the survey instruments"
    for path in sources:
        published = factory.publish(path)
        assert published.created
        assert published.warnings == (), path
        assert published.version.version  # our instruments are versioned


def test_real_kobo_xlsform_is_converted_and_gets_its_file_name_as_id(factory: Factory) -> None:
    path = KOBO_XLSFORMS / "household_energy_survey" / "household_energy_survey.xlsx"
    published = factory.publish(path)
    assert published.form.form_id == "household_energy_survey"
    assert published.version.xml.startswith(b"<?xml")
    assert published.version.source == path.read_bytes()  # the workbook is kept


def test_pyxform_errors_name_the_row(factory: Factory) -> None:
    md = b"""
| survey |
|        | type              | name  | label |
|        | integer           | q     | Q     |
|        | integer           | q     | Q2    |
"""
    with pytest.raises(InvalidError) as excinfo:
        factory.publish_bytes("broken.md", md)
    assert "row" in excinfo.value.message.lower()
    assert excinfo.value.message.startswith("broken.md:")


def test_same_version_same_content_is_a_no_op_and_different_content_is_refused(factory: Factory, odk: Path) -> None:
    xml = (odk / "forms/simple2.xml").read_bytes()
    assert factory.publish_bytes("simple2.xml", xml).created
    assert not factory.publish_bytes("simple2.xml", xml).created
    with pytest.raises(ConflictError) as excinfo:
        factory.publish_bytes("simple2.xml", xml.replace(b"<h:title>", b"<h:title>Changed "))
    assert "new version" in excinfo.value.message


def test_new_version_keeps_old_and_carries_media_forward(factory: Factory, odk: Path) -> None:
    xml = (odk / "forms/withAttachments.xml").read_bytes()
    first = factory.publish_bytes("withAttachments.xml", xml, {"goodone.csv": b"a,b\n"})
    assert set(first.missing_media) == {"badnestedfile.csv", "goodtwo.mp3"}
    changed = xml.replace(b'id="withAttachments"', b'id="withAttachments" version="2"')
    second = factory.publish_bytes("withAttachments.xml", changed, {"goodtwo.mp3": b"mp3"})
    assert second.created and second.version.version == "2"
    assert {m.name for m in second.version.media} == {"goodone.csv", "goodtwo.mp3"}
    assert second.form.current_version_id == second.version.id


def test_media_the_form_does_not_use_is_refused(factory: Factory, odk: Path) -> None:
    with pytest.raises(InvalidError) as excinfo:
        factory.publish(odk / "forms/simple.xml", media={"stray.csv": b"x"})
    assert "does not use stray.csv" in excinfo.value.message


@pytest.mark.parametrize(
    ("name", "data", "needle"),
    [
        ("form.txt", b"hello", "XLSForm"),
        ("form.xml", b"<notaform/>", "not an XForm"),
        ("form.xml", b"<h:html", "not valid XML"),
    ],
)
def test_unpublishable_files_are_explained(factory: Factory, name: str, data: bytes, needle: str) -> None:
    with pytest.raises(InvalidError) as excinfo:
        factory.publish_bytes(name, data)
    assert needle in excinfo.value.message
