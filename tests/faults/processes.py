"""The job worker as a process a test can SIGKILL and start again (tests/live.py's Server does this for gunicorn)."""

from __future__ import annotations

import subprocess
import sys
from contextlib import suppress
from pathlib import Path

from app.config import Settings
from tests.conftest import ROOT
from tests.live import kill_group, server_env


class JobWorker:
    """`flask --app wsgi jobs worker` on the test's database and queue, in a process group of its own."""

    def __init__(self, settings: Settings, workers: int = 2) -> None:
        self.settings = settings
        self.env = {**server_env(settings), "JOBS_URL": settings.jobs_url, "JOBS_QUEUE": settings.jobs_queue}
        flask = str(Path(sys.executable).with_name("flask"))
        self.command = [flask, "--app", "wsgi", "jobs", "worker", "--workers", str(workers)]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.settings.instance_path.mkdir(parents=True, exist_ok=True)
        with (self.settings.instance_path / "worker.log").open("ab") as log:
            self.process = subprocess.Popen(
                self.command, cwd=ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True
            )

    def kill(self) -> None:
        kill_group(self.process)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=15)
        self.kill()
