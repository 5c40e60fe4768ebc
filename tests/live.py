"""A real gunicorn server on a test database, for tests that talk HTTP as ODK Collect or a browser does."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from app.config import Settings
from tests.conftest import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "CHAINLIFT_INSTANCE_PATH": str(settings.instance_path),
        "MEDIA_ROOT": str(settings.media_root),
        "SECRET_KEY": settings.secret_key,
    }


@contextmanager
def gunicorn(settings: Settings, workers: int = 2, threads: int = 1) -> Iterator[str]:
    """Start gunicorn on ``settings`` at a free loopback port; yield its base URL; stop it."""
    port = free_port()
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    command = [str(Path(sys.executable).with_name("gunicorn")), "--workers", str(workers), "--threads", str(threads)]
    command += ["--bind", f"127.0.0.1:{port}", "--access-logfile", str(settings.instance_path / "access.log")]
    command += ["--logger-class", "app.gunicorn_logging.MaskingLogger", "wsgi:app"]
    process = subprocess.Popen(
        command, cwd=ROOT, env=server_env(settings), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
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
