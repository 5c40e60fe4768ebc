"""Export benchmark: a CSV export of the decisions table over HTTP, at two sizes, against a bare csv.writer.

A throwaway database (an SQLite file under /tmp, or a throwaway PostgreSQL database with --database-url) gets the
catalogue through the CLI, then firms, rounds, submissions, observations, decisions (and a main reason for every
decision not adopted) by bulk Core inserts: no interview goes through the pipeline. The database grows to each size
in turn; at each size, in one command:

1. ChainLift: a fresh gunicorn (1 gthread worker) serves ``/dashboard/exports/decisions.csv`` to a signed-in
   manager; the client reads the streamed response; rows/s over the whole download and the worker's peak RSS
   during the export are reported (VmHWM in /proc/<pid>/status, reset through clear_refs after the sign-in,
   whose argon2 hash costs 64 MiB; the worker is fresh for each size).
2. Baseline: a bare child process (no app imports) runs the same SQL (the export's own statement, compiled) on a
   bare DB-API cursor (fetchmany) into a bare ``csv.writer`` writing to /dev/null; its rows/s and peak RSS (VmHWM).

    .venv/bin/python bench/export.py --sizes 100000,1000000
    .venv/bin/python bench/export.py --sizes 100000,1000000 --database-url postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import psycopg
import requests
from psycopg import sql
from sqlalchemy import Engine, insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from app.config import load_settings  # noqa: E402
from app.db import engine_of, transaction  # noqa: E402
from app.models import (  # noqa: E402
    DecisionReason,
    Firm,
    FirmObservation,
    FirmRound,
    Form,
    ReasonCode,
    Role,
    Submission,
    SurveyRound,
    UpgradingDecision,
    UpgradingPractice,
    ValueChain,
)
from app.services import users  # noqa: E402
from app.services.exports.tables import TABLES, Scope  # noqa: E402

FLASK = [str(Path(sys.executable).with_name("flask")), "--app", "wsgi"]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
ROUNDS = 5
BATCH = 20_000
STATUSES = ("adopted", "tried", "abandoned", "not_adopted")
SOURCES = ("own_savings", "buyer_credit", "group", None)
PASSWORD = "bench password 1"  # noqa: S105 - a throwaway user in a throwaway database


@contextlib.contextmanager
def throwaway_database(url: str | None, tmp: Path) -> Iterator[str]:
    if not url:
        yield f"sqlite:///{tmp / 'bench.sqlite3'}"
        return
    name = f"chainlift_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(url, autocommit=True)
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield url.rsplit("/", 1)[0] + "/" + name
    finally:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.close()


class Builder:
    """Grows the panel by bulk inserts: observation i is firm i // ROUNDS in round i % ROUNDS, one per practice."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        with engine.begin() as conn:
            (self.chain_id,) = conn.execute(select(ValueChain.id).order_by(ValueChain.code).limit(1)).one()
            self.practices = list(
                conn.scalars(select(UpgradingPractice.id).where(UpgradingPractice.value_chain_id == self.chain_id))
            )
            self.reasons = list(conn.scalars(select(ReasonCode.id).order_by(ReasonCode.id)))
            self.rounds = []
            for number in range(ROUNDS):
                existing = conn.scalar(select(SurveyRound.id).where(SurveyRound.number == number))
                if existing is None:
                    existing = conn.execute(
                        insert(SurveyRound).values(
                            code=f"R{number}",
                            number=number,
                            kind="baseline" if number == 0 else "monitoring",
                            name=f"Round {number}",
                        )
                    ).inserted_primary_key[0]
                self.rounds.append(existing)
            self.form_id = conn.execute(insert(Form).values(form_id="bench_export")).inserted_primary_key[0]
        self.observations = 0
        self.decisions = 0
        self.stamp = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)

    def grow_to(self, decisions: int) -> None:
        per = len(self.practices)
        while self.decisions < decisions:
            first = self.observations
            last = min(first + BATCH // per + 1, -(-decisions // per))
            self._insert(first, last, decisions)
            self.observations = last
        # Fresh statistics, as autovacuum would leave them, so that it does not run during the measurement.
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE" if self.engine.dialect.name == "postgresql" else "ANALYZE")

    def _insert(self, first: int, last: int, limit: int) -> None:
        firms, firm_rounds, subs, obs, decs, reasons = [], [], [], [], [], []
        for i in range(first, last):
            firm, rnd = i // ROUNDS + 1, i % ROUNDS
            if rnd == 0:
                firms.append(
                    {
                        "id": firm,
                        "panel_code": f"BX-{firm:07d}",
                        "value_chain_id": self.chain_id,
                        "admin1": ("North", "South", "East")[firm % 3],
                        "admin2": f"District {firm % 17}",
                        "urban_rural": "rural",
                        "year_started": 1990 + firm % 30,
                        "legal_status": "informal",
                        "group_member": firm % 2 == 0,
                        "base_weight": 1.0 + firm % 5 / 10,
                        "baseline_round_id": self.rounds[0],
                    }
                )
            firm_rounds.append(
                {
                    "firm_id": firm,
                    "round_id": self.rounds[rnd],
                    "round_weight": 1.0,
                    "participant_status": "participant" if firm % 2 else "comparison",
                    "interviewed": True,
                    "submission_id": i + 1,
                }
            )
            subs.append(
                {
                    "id": i + 1,
                    "form_pk": self.form_id,
                    "instance_id": f"uuid:bench-{i}",
                    "firm_id": firm,
                    "round_id": self.rounds[rnd],
                    "processing_status": "mapped",
                }
            )
            obs.append(
                {
                    "id": i + 1,
                    "submission_id": i + 1,
                    "firm_id": firm,
                    "round_id": self.rounds[rnd],
                    "interview_start": self.stamp,
                    "interview_end": self.stamp,
                    "duration_seconds": 1800 + i % 900,
                    "owner_sex": ("female", "male")[i % 2],
                    "workers_family": i % 4,
                    "workers_hired": i % 3,
                    "sales_value": Decimal(1000 + i % 5000),
                    "net_income": Decimal(400 + i % 3000) / 4,
                }
            )
            for k, practice in enumerate(self.practices):
                if self.decisions >= limit:
                    break
                self.decisions += 1
                status = STATUSES[(i + k) % 4]
                decs.append(
                    {
                        "id": self.decisions,
                        "observation_id": i + 1,
                        "firm_id": firm,
                        "round_id": self.rounds[rnd],
                        "practice_id": practice,
                        "aware": (i + k) % 5 != 0,
                        "status": status,
                        "applied_in_period": status in ("adopted", "tried"),
                        "first_year_applied": 2020 + k % 5,
                        "scale_share": Decimal((i * 7 + k) % 100),
                        "investment_cost": Decimal(50 * (k + 1)),
                        "financing_source": SOURCES[k % 4],
                        "perceived_benefit": 1 + (i + k) % 5,
                        "perceived_cost": 1 + i % 5,
                        "perceived_risk": 1 + k % 5,
                    }
                )
                if status == "not_adopted":
                    reasons.append(
                        {
                            "decision_id": self.decisions,
                            "reason_code_id": self.reasons[(i + k) % len(self.reasons)],
                            "is_main": True,
                        }
                    )
        with self.engine.begin() as conn:
            for model, rows in (
                (Firm, firms),
                (Submission, subs),
                (FirmRound, firm_rounds),
                (FirmObservation, obs),
                (UpgradingDecision, decs),
                (DecisionReason, reasons),
            ):
                if rows:
                    conn.execute(insert(model), rows)


def require(ok: bool, what: str) -> None:
    if not ok:
        raise RuntimeError(what)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    found.append(int(entry.name))
    return found


def status_kb(pid: int, field: str) -> int:
    match = re.search(rf"^{field}:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.MULTILINE)
    require(match is not None, f"no {field} in /proc/{pid}/status")
    return int(match[1]) if match else 0


@contextlib.contextmanager
def gunicorn(env: dict[str, str]) -> Iterator[tuple[str, int]]:
    port = free_port()
    command = [GUNICORN, "--workers", "1", "--worker-class", "gthread", "--threads", "2", "--timeout", "600"]
    process = subprocess.Popen(
        [*command, "--bind", f"127.0.0.1:{port}", "wsgi:app"], cwd=ROOT, env=env, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(base + "/", timeout=5)
                break
            except requests.RequestException:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        workers = children(process.pid)
        require(len(workers) == 1, f"one gunicorn worker expected, found {workers}")
        yield base, workers[0]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def signed_in(base: str, username: str) -> requests.Session:
    browser = requests.Session()
    page = browser.get(base + "/login", timeout=30).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    if token is None:
        raise RuntimeError("no CSRF token on the login page")
    answer = browser.post(
        base + "/login", data={"username": username, "password": PASSWORD, "csrf_token": token[1]}, timeout=30
    )
    require(answer.url.endswith("/dashboard/"), f"sign-in failed: {answer.url}")
    return browser


def chainlift_export(env: dict[str, str], username: str) -> tuple[int, float, float, int, int, int]:
    """(rows, seconds, to the first byte, worker RSS before, peak RSS during the export, peak before it; in kB)."""
    with gunicorn(env) as (base, worker):
        browser = signed_in(base, username)
        browser.get(base + "/dashboard/exports/", timeout=300).raise_for_status()  # warm: every module imported
        lifetime = status_kb(worker, "VmHWM")  # argon2 at login (64 MiB memory cost) peaks here, not the export
        Path(f"/proc/{worker}/clear_refs").write_text("5")  # reset the peak: what follows is the export's
        before = status_kb(worker, "VmRSS")
        started = time.perf_counter()
        first = None
        lines = 0
        with browser.get(base + "/dashboard/exports/decisions.csv", stream=True, timeout=600) as response:
            response.raise_for_status()
            for chunk in response.iter_content(chunk_size=1 << 16):
                first = first or time.perf_counter()
                lines += chunk.count(b"\n")
        seconds = time.perf_counter() - started
        peak = status_kb(worker, "VmHWM")
    return lines - 1, seconds, (first or started) - started, before, peak, lifetime


def export_sql(url: str) -> str:
    """The export's own statement, with its parameters inlined, for the bare baseline."""
    app = create_app(load_settings({**os.environ, "DATABASE_URL": url}))
    stmt = TABLES["decisions"].build(False, Scope())[1]
    compiled = stmt.compile(dialect=engine_of(app).dialect, compile_kwargs={"literal_binds": True})
    engine_of(app).dispose()
    return str(compiled)


# The baseline runs as its own small program, so that its peak RSS is that of a bare cursor and csv.writer (the app
# imports scipy and numpy, which the baseline must not carry).
BARE = """
import csv, os, sys, time
url, query = sys.argv[1], sys.stdin.read()
started = time.perf_counter()
rows = 0
if url.startswith("sqlite"):
    import sqlite3
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    cursor = conn.cursor()
else:
    import psycopg
    conn = psycopg.connect(url.replace("postgresql+psycopg", "postgresql"))
    cursor = conn.cursor(name="bench")  # a server-side cursor
cursor.execute(query)
with open(os.devnull, "w", newline="") as sink:
    writer = csv.writer(sink)
    while batch := cursor.fetchmany(5000):
        writer.writerows(batch)
        rows += len(batch)
conn.close()
seconds = time.perf_counter() - started
peak = [line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:")][0]
print(rows, seconds, peak)
"""


def bare_baseline(url: str, query: str) -> tuple[int, float, int]:
    out = subprocess.run(
        [sys.executable, "-c", BARE, url], input=query, text=True, capture_output=True, check=True
    ).stdout.split()
    return int(out[0]), float(out[1]), int(out[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,1000000", help="decision rows, comma-separated, increasing")
    parser.add_argument("--database-url", help="a PostgreSQL server; a throwaway database is created on it")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="chainlift-bench-export-"))
    try:
        with throwaway_database(args.database_url, tmp) as url:
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "CHAINLIFT_INSTANCE_PATH": str(tmp / "instance"),
                "MEDIA_ROOT": str(tmp / "media"),
                "SECRET_KEY": uuid.uuid4().hex,
            }
            print(f"machine: {platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}")
            print(f"database: {url.split('@')[-1]}; date {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
            print("load average at start (the machine is shared): " + " ".join(f"{x:.1f}" for x in os.getloadavg()))
            subprocess.run([*FLASK, "db", "upgrade"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
            subprocess.run(
                [*FLASK, "catalogue", "load", "forms/catalogue.yaml"],
                cwd=ROOT,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            app = create_app(load_settings(env))
            with app.app_context(), transaction(write=True) as session:
                users.create_user(session, "bench_manager", Role.MANAGER, PASSWORD)
            builder = Builder(engine_of(app))
            query = export_sql(url)
            for size in sizes:
                started = time.perf_counter()
                builder.grow_to(size)
                print(
                    f"\n{size:,} decision rows ({builder.observations:,} interviews; stored in "
                    f"{time.perf_counter() - started:.0f} s by bulk inserts, not timed)"
                )
                rows, seconds, first, before, peak, lifetime = chainlift_export(env, "bench_manager")
                require(rows == size, f"{rows} rows exported, {size} expected")
                print(
                    f"  chainlift decisions.csv over HTTP: {rows / seconds:,.0f} rows/s ({seconds:.2f} s, first "
                    f"byte {first:.2f} s); worker RSS {before / 1024:.0f} MB before, peak during the export "
                    f"{peak / 1024:.0f} MB (peak before it, at login: {lifetime / 1024:.0f} MB)"
                )
                load = os.getloadavg()[0]
                rows, seconds, peak = bare_baseline(url, query)
                require(rows == size, f"{rows} rows exported, {size} expected")
                print(
                    f"  baseline cursor + csv.writer:      {rows / seconds:,.0f} rows/s ({seconds:.2f} s); "
                    f"peak RSS {peak / 1024:.0f} MB (load average {load:.1f})"
                )
            engine_of(app).dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
