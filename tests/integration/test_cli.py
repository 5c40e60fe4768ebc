"""The command line: users, forms and the database, through click's runner on the real app."""

from __future__ import annotations

import base64
import json
import zlib
from pathlib import Path

from flask import Flask

from tests.conftest import ROOT


def _run(app: Flask, *args: str, input: str | None = None) -> str:
    result = app.test_cli_runner().invoke(args=list(args), input=input)
    assert result.exit_code == 0, result.output
    return result.output


def _fails(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    return result.output


def test_users_lifecycle(app: Flask) -> None:
    created = _run(app, "users", "create", "amina", "--role", "enumerator")
    assert "Password: " in created
    _run(app, "users", "create", "kofi", "--role", "manager", "--password-stdin", input="a long password\n")
    assert "Password" not in _run(app, "users", "create", "zed", "--role", "admin", "--password-stdin", input="x" * 12)
    listing = _run(app, "users", "list")
    assert "amina" in listing and "manager" in listing
    assert "already exists" in _fails(app, "users", "create", "amina", "--role", "enumerator")
    _run(app, "users", "deactivate", "amina")
    assert "deactivated" in _run(app, "users", "list")
    assert "no user named" in _fails(app, "users", "deactivate", "nobody")


def test_ensure_admin_prints_the_password_only_once(app: Flask) -> None:
    first = _run(app, "users", "ensure-admin")
    assert "password:" in first
    assert _run(app, "users", "ensure-admin") == ""


def test_collect_config_prints_token_url_and_settings_qr(app: Flask, tmp_path: Path) -> None:
    _run(app, "users", "create", "amina", "--role", "enumerator")
    qr = tmp_path / "qr.png"
    output = _run(app, "users", "collect-config", "amina", "--server", "http://10.0.0.5:5000", "--qr", str(qr))
    url = next(line.strip() for line in output.splitlines() if "/key/" in line)
    assert url.startswith("http://10.0.0.5:5000/key/")
    settings = json.loads(output[output.index("{") : output.rindex("}") + 1])
    assert settings["general"]["server_url"] == url
    assert qr.read_bytes().startswith(b"\x89PNG")
    client = app.test_client()
    assert client.get(url.removeprefix("http://10.0.0.5:5000") + "/formList").status_code == 200
    rotated = _run(app, "users", "collect-config", "amina", "--rotate")
    assert url.rsplit("/", 1)[1] not in rotated
    assert client.get(url.removeprefix("http://10.0.0.5:5000") + "/formList").status_code == 403


def test_qr_payload_is_what_collect_decodes(app: Flask) -> None:
    from app.cli.users import collect_settings

    payload = base64.b64encode(zlib.compress(json.dumps(collect_settings("http://x/key/t", "P")).encode()))
    assert json.loads(zlib.decompress(base64.b64decode(payload)))["general"]["server_url"] == "http://x/key/t"


def test_forms_publish_list_close_assign(app: Flask, odk: Path) -> None:
    published = _run(app, "forms", "publish", str(ROOT / "forms" / "mse_survey.xlsx"), str(odk / "forms/simple.xml"))
    assert "Published mse_survey version" in published
    assert "Already published" in _run(app, "forms", "publish", str(odk / "forms/simple.xml"))
    _run(app, "users", "create", "amina", "--role", "enumerator")
    _run(app, "forms", "assign", "simple", "amina")
    listing = _run(app, "forms", "list")
    assert "mse_survey" in listing and "[amina]" in listing
    _run(app, "forms", "close", "simple")
    assert "closed" in _run(app, "forms", "list")
    assert "no form with id" in _fails(app, "forms", "close", "nope")
    _run(app, "users", "create", "kofi", "--role", "manager")
    assert "only enumerators" in _fails(app, "forms", "assign", "simple", "kofi")


def test_forms_publish_reports_pyxform_errors_without_traceback(app: Flask, tmp_path: Path) -> None:
    bad = tmp_path / "bad.md"
    bad.write_text("| survey |\n| | type | name | label |\n| | integer | q | Q |\n| | integer | q | Q |\n")
    output = _fails(app, "forms", "publish", str(bad))
    assert "bad.md" in output


def test_forms_publish_takes_media_from_a_folder_beside_the_form(app: Flask, odk: Path, tmp_path: Path) -> None:
    form = tmp_path / "withAttachments.xml"
    form.write_bytes((odk / "forms/withAttachments.xml").read_bytes())
    (tmp_path / "withAttachments-media").mkdir()
    (tmp_path / "withAttachments-media" / "goodone.csv").write_text("name,label\n")
    extra = tmp_path / "goodtwo.mp3"
    extra.write_bytes(b"mp3")
    output = _run(app, "forms", "publish", str(form), "--media", str(extra))
    assert "missing media (publish with --media): badnestedfile.csv" in output


def test_every_command_has_help(app: Flask) -> None:
    for group, commands in {
        "db": ["upgrade", "downgrade", "current"],
        "users": ["create", "list", "deactivate", "set-password", "ensure-admin", "collect-config"],
        "forms": ["publish", "list", "close", "open", "assign"],
    }.items():
        assert "Usage" in _run(app, group, "--help")
        for command in commands:
            assert "Usage" in _run(app, group, command, "--help")
