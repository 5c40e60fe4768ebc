"""The pure adapters: instance and XForm readers."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.ingest.instance import InstanceError, read_instance
from app.ingest.xform import XFormError, read_xform
from tests.conftest import SHARED

ODK = SHARED / "odk"


def test_instance_identity_from_prefixed_meta() -> None:
    xml = (
        b'<d id="f" orx:version="3"><orx:meta><orx:instanceID>uuid:1</orx:instanceID>'
        b"<orx:deprecatedID>uuid:0</orx:deprecatedID><orx:instanceName>N</orx:instanceName></orx:meta></d>"
    )
    instance = read_instance(xml)
    assert (instance.form_id, instance.version, instance.instance_id) == ("f", "3", "uuid:1")
    assert (instance.deprecated_id, instance.instance_name) == ("uuid:0", "N")


def test_legacy_instance_id_under_root_and_repeats() -> None:
    instance = read_instance(b"<d id='f'><instanceID>x</instanceID><r><p>a.jpg</p></r><r><p>b.jpg</p></r></d>")
    assert instance.instance_id == "x"
    assert instance.values_at("r/p") == ["a.jpg", "b.jpg"]


def test_encrypted_envelope() -> None:
    instance = read_instance((ODK / "encrypted-collect/envelope.xml").read_bytes())
    assert instance.encrypted is not None
    assert instance.encrypted.xml_file == "submission.xml.enc"
    assert instance.encrypted.media_files == ("1561432532482.jpg.enc",)


@pytest.mark.parametrize(
    ("xml", "needle"),
    [
        (b"", "not valid XML"),
        (b"<d id='f'><meta><instanceID>" + b"x" * 300 + b"</instanceID></meta></d>", "longer than"),
        (
            b"<d id='f'><base64EncryptedKey>k</base64EncryptedKey><meta><instanceID>x</instanceID></meta></d>",
            "encryptedXmlFile",
        ),
        (b"<d id='f'><meta><instanceID>\xff\xfe</instanceID></meta></d>", "not valid XML"),  # not UTF-8
    ],
)
def test_instance_errors(xml: bytes, needle: str) -> None:
    with pytest.raises(InstanceError, match=needle):
        read_instance(xml)


def test_declared_and_detected_encodings_are_read() -> None:
    xml = "<?xml version='1.0' encoding='ISO-8859-1'?><d id='f'><meta><instanceID>é</instanceID></meta></d>"
    assert read_instance(xml.encode("latin-1")).instance_id == "é"
    utf16 = "<d id='f'><meta><instanceID>ü</instanceID></meta></d>".encode("utf-16")
    assert read_instance(utf16).instance_id == "ü"


def test_xform_reader_on_real_forms() -> None:
    info = read_xform((ODK / "forms/withAttachments.xml").read_bytes())
    assert info.media_names == ("badnestedfile.csv", "goodone.csv", "goodtwo.mp3")
    audits = read_xform((ODK / "forms/clientAudits.xml").read_bytes())
    assert audits.form_id == "audits" and audits.binary_paths == ("meta/audit",)
    assert read_xform((ODK / "forms/encrypted.xml").read_bytes()).encrypted


def test_xform_with_raw_ampersand_is_refused(tmp_path: Path) -> None:
    with pytest.raises(XFormError, match="not valid XML"):
        read_xform((ODK / "forms/consumeDatasets.xml").read_bytes())
