"""A real gunicorn server on the test database, for the tests that talk HTTP as ODK Collect does."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from app.config import Settings
from tests.conftest import ROOT
from tests.helpers import Factory


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(settings: Settings, factory: Factory) -> Iterator[str]:
    port = _free_port()
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "CHAINLIFT_INSTANCE_PATH": str(settings.instance_path),
        "MEDIA_ROOT": str(settings.media_root),
        "SECRET_KEY": settings.secret_key,
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [
            str(gunicorn),
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            str(settings.instance_path / "access.log"),
            "--logger-class",
            "app.gunicorn_logging.MaskingLogger",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(base + "/", timeout=5)
                break
            except requests.RequestException:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr:
            process.stderr.close()
