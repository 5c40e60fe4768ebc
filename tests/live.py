"""A real gunicorn server on a test database, for tests that talk HTTP as ODK Collect or a browser does."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
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


def kill_group(process: subprocess.Popen[bytes] | None) -> None:
    """SIGKILL a process started with its own session, and all its children, and reap it."""
    if process is None:
        return
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


class Server:
    """gunicorn on one loopback port, in a process group of its own: ``kill`` SIGKILLs the master and every
    worker at once (a crash), ``start`` brings it back on the same port. Its output goes to gunicorn.log."""

    def __init__(
        self, settings: Settings, workers: int = 2, threads: int = 1, env: Mapping[str, str] | None = None
    ) -> None:
        self.settings, self.port = settings, free_port()
        self.env = {**server_env(settings), **(env or {})}
        self.base = f"http://127.0.0.1:{self.port}"
        self.command = [str(Path(sys.executable).with_name("gunicorn")), "--workers", str(workers)]
        self.command += ["--threads", str(threads), "--bind", f"127.0.0.1:{self.port}"]
        self.command += ["--access-logfile", str(settings.instance_path / "access.log")]
        self.command += ["--logger-class", "app.gunicorn_logging.MaskingLogger", "wsgi:app"]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> None:
        self.settings.instance_path.mkdir(parents=True, exist_ok=True)
        with (self.settings.instance_path / "gunicorn.log").open("ab") as log:
            self.process = subprocess.Popen(
                self.command, cwd=ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while True:
            try:
                requests.get(self.base + "/", timeout=5)
            except requests.RequestException:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.1)
            else:
                return

    def kill(self) -> None:
        """SIGKILL the whole server, as a crash or the OOM killer would: no worker finishes its request."""
        kill_group(self.process)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        pid = self.process.pid
        self.process.terminate()
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        with suppress(ProcessLookupError):  # what is left of the group (a hung master, orphaned workers)
            os.killpg(pid, signal.SIGKILL)
        self.process.wait()
        self.process = None


@contextmanager
def gunicorn(
    settings: Settings, workers: int = 2, threads: int = 1, env: Mapping[str, str] | None = None
) -> Iterator[str]:
    """Start gunicorn on ``settings`` at a free loopback port; yield its base URL; stop it."""
    with running_server(settings, workers, threads, env) as server:
        yield server.base


@contextmanager
def running_server(
    settings: Settings, workers: int = 2, threads: int = 1, env: Mapping[str, str] | None = None
) -> Iterator[Server]:
    server = Server(settings, workers, threads, env)
    server.start()
    try:
        yield server
    finally:
        server.stop()
