"""A real job worker (``flask jobs worker``) in a subprocess, on the test's database and queue."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from app.config import Settings
from tests.conftest import ROOT


@contextmanager
def running_worker(settings: Settings, workers: int = 2) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "CHAINLIFT_INSTANCE_PATH": str(settings.instance_path),
        "MEDIA_ROOT": str(settings.media_root),
        "SECRET_KEY": settings.secret_key,
        "JOBS_URL": settings.jobs_url,
        "JOBS_QUEUE": settings.jobs_queue,
    }
    flask = Path(sys.executable).with_name("flask")
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    log = settings.instance_path / "worker.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(flask), "--app", "wsgi", "jobs", "worker", "--workers", str(workers)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_for(condition: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> float:
    """Poll ``condition`` until true; the seconds it took. Fails the test on timeout."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)
    return time.monotonic() - started
