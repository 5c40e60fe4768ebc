"""Secrets never reach the logs: passwords, app-user keys, API tokens, session cookies and KoBo hook URLs.

A real gunicorn serves a session of every kind of request; then its access log and its own log are searched.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import requests
from flask import Flask
from requests.auth import HTTPDigestAuth

from app.config import Settings
from app.models import Role
from tests.helpers import Factory

WRONG = "Wrong-Password-31337"


def read_logs(settings: Settings) -> str:
    paths = (settings.instance_path / "access.log", settings.instance_path / "gunicorn.log")
    return "".join(path.read_text(errors="replace") for path in paths if path.exists())


def test_no_secret_is_written_to_any_log(
    server: str, app: Flask, factory: Factory, settings: Settings, odk: Path
) -> None:
    factory.publish(odk / "forms/simple.xml")
    enumerator = factory.user("enum_logs", Role.ENUMERATOR, "enum-secret-pw-1")
    manager = factory.user("mgr_logs", Role.MANAGER, "mgr-secret-pw-2")
    added = app.test_cli_runner().invoke(args=["kobo", "hooks", "add", "logs", "--form", "simple", "--server", server])
    assert added.exit_code == 0, added.output
    hook_url = re.search(r"(http://\S+/kobo/hook/\S+)", added.output)
    assert hook_url, added.output
    secrets = {"enumerator password": enumerator.password, "manager password": manager.password, "wrong": WRONG}
    secrets["app-user key"] = enumerator.token or ""
    secrets["hook token"] = hook_url.group(1).rsplit("/", 1)[1]

    assert requests.get(f"{server}{enumerator.prefix}/formList", timeout=30).status_code == 200
    digest = HTTPDigestAuth(enumerator.username, enumerator.password)
    assert requests.get(f"{server}/formList", auth=digest, timeout=30).status_code == 200
    issued = requests.post(
        f"{server}/api/v1/auth/token", json={"username": manager.username, "password": manager.password}, timeout=30
    )
    secrets["api token"] = issued.json()["token"]
    headers = {"Authorization": f"Bearer {secrets['api token']}"}
    assert requests.get(f"{server}/api/v1/indicators?chain=x", headers=headers, timeout=30).status_code == 404
    requests.post(f"{server}/api/v1/auth/token", json={"username": manager.username, "password": WRONG}, timeout=30)
    browser = requests.Session()
    login = browser.get(f"{server}/login", timeout=30).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login)
    assert token
    form = {"csrf_token": token.group(1), "username": manager.username, "password": manager.password}
    assert browser.post(f"{server}/login", data=form, timeout=30).status_code == 200
    secrets["session cookie"] = browser.cookies["session"]
    assert browser.get(f"{server}/dashboard/", timeout=30).status_code == 200
    requests.post(hook_url.group(1), json={"_id": 1}, timeout=30)

    logs = read_logs(settings)
    deadline = time.monotonic() + 15
    while "/kobo/hook/" not in logs and time.monotonic() < deadline:  # a line is written after its response
        time.sleep(0.1)
        logs = read_logs(settings)
    assert "/formList" in logs and "/kobo/hook/" in logs  # the requests were logged...
    leaked = [name for name, secret in secrets.items() if secret and secret in logs]
    assert not leaked, f"in the logs: {leaked}"  # ...without their secrets
