"""Ingest benchmark: OpenRosa submissions per second into ChainLift, against a bare Flask + SQLite ceiling.

Everything runs on 127.0.0.1 in a throwaway instance directory (or a throwaway PostgreSQL database), with a
bounded number of requests and a time limit per run; the servers are stopped and the temp files removed
even on error or Ctrl-C. See docs/benchmarks.md for results and how to read them.

    .venv/bin/python bench/ingest.py
    .venv/bin/python bench/ingest.py --database-url postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import math
import os
import platform
import queue
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit, urlunsplit

import psycopg
import requests
from psycopg import sql

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
FORM_XML = SHARED / "fixtures/odk/forms/simple.xml"
INSTANCE_XML = SHARED / "fixtures/odk/instances/simple/one.xml"
BIN = REPO / ".venv" / "bin"
HOST = "127.0.0.1"
USERNAME = "benchuser"
INSTANCE_ID_MARKER = b"<instanceID>one</instanceID>"
BOUNDARY = "chainlift-bench-" + secrets.token_hex(8)
POST_HEADERS = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", "X-OpenRosa-Version": "1.0"}
REQUEST_TIMEOUT_S = 30.0
READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
CLI_TIMEOUT_S = 120.0
WARMUP_TIMEOUT_S = 60.0
NOISY_OTHER_PERCENT = 10.0
MAX_PRINTED_ERRORS = 10


class BenchError(RuntimeError):
    """The benchmark could not be set up or run."""


# -- command line ---------------------------------------------------------------------------------------------


def default_workers() -> int:
    """What `make run` starts: cores + 1 gthread workers of 4 threads (measured best on 2 cores)."""
    return (os.cpu_count() or 1) + 1


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(
            "Benchmark OpenRosa submission ingest. Starts ChainLift under gunicorn on 127.0.0.1 with a throwaway "
            "instance (SQLite by default) and, as the ceiling, a bare Flask + SQLite app (bench/bare_app.py) under "
            "the same gunicorn; POSTs N unique instances of the 'simple' form to each with 1 and with 8 concurrent "
            "clients, interleaving the two servers and repeating the round; prints the median run's "
            "submissions/s and p50/p95 latency side by side. Every response must be 201; anything else is "
            "counted and printed as an error (exit status 1)."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--n", type=_positive, default=2000, help="submissions posted per run (not counting warm-up)")
    parser.add_argument(
        "--clients", type=_client_list, default="1,8", help="comma-separated concurrent client counts, one run each"
    )
    parser.add_argument(
        "--workers", type=_positive, default=default_workers(), help="gunicorn workers for both servers"
    )
    parser.add_argument(
        "--threads",
        type=_positive,
        default=4,
        help="threads per worker for both servers; above 1 uses gunicorn's gthread workers (keep-alive); 1: sync",
    )
    parser.add_argument(
        "--repeat", type=_positive, default=3, help="rounds of runs; the report shows the median run of each"
    )
    parser.add_argument("--warmup", type=int, default=40, help="uncounted posts sent to each server before its runs")
    parser.add_argument(
        "--max-seconds", type=float, default=300.0, help="time limit per run; posts not sent by then count as errors"
    )
    parser.add_argument(
        "--database-url",
        help=(
            "PostgreSQL server URL (postgresql://user@127.0.0.1:5432/db) to benchmark ChainLift on PostgreSQL "
            "instead of SQLite: a fresh database is created on that server and dropped at the end. "
            "The ceiling stays bare Flask + SQLite."
        ),
    )
    parser.add_argument(
        "--only", choices=["both", "chainlift", "bare"], default="both", help="which server(s) to benchmark"
    )
    return parser.parse_args(argv)


def _positive(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


def _client_list(raw: str) -> list[int]:
    try:
        return [_positive(part) for part in raw.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected e.g. 1,8, got {raw!r}") from exc


# -- processes ------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def flask_cli(args: Sequence[str], env: dict[str, str], stdin: str | None = None) -> str:
    command = [str(BIN / "flask"), "--app", "wsgi", *args]
    result = subprocess.run(
        command, cwd=REPO, env=env, input=stdin, capture_output=True, text=True, timeout=CLI_TIMEOUT_S, check=False
    )
    if result.returncode != 0:
        raise BenchError(f"`flask {' '.join(args)}` failed ({result.returncode}):\n{result.stderr}{result.stdout}")
    return result.stdout


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_ready(proc: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"gunicorn exited with {proc.returncode}:\n{_log_tail(log_path)}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=1.0).status_code == 200:
                return
        time.sleep(0.1)
    raise BenchError(f"gunicorn did not answer GET {url} within {READY_TIMEOUT_S:.0f}s:\n{_log_tail(log_path)}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate gunicorn (graceful), then kill its process group if it lingers."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=STOP_TIMEOUT_S)
    with contextlib.suppress(ProcessLookupError):  # workers orphaned by a crashed master, if any
        os.killpg(proc.pid, signal.SIGKILL)


@contextlib.contextmanager
def gunicorn(
    app_spec: str,
    *,
    workers: int,
    port: int,
    env: dict[str, str],
    log_path: Path,
    extra: Sequence[str] = (),
    threads: int = 1,
) -> Iterator[subprocess.Popen[bytes]]:
    threading_args = ["--worker-class", "gthread", "--threads", str(threads)] if threads > 1 else []
    command = [
        str(BIN / "gunicorn"),
        "--workers",
        str(workers),
        *threading_args,
        "--bind",
        f"{HOST}:{port}",
        *extra,
        app_spec,
    ]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_ready(proc, f"http://{HOST}:{port}/", log_path)
        yield proc
    finally:
        _stop(proc)


def _stat_fields(stat: Path) -> list[str] | None:
    """/proc/<pid>/stat after the command name: [0] state, [1] ppid, [11] utime, [12] stime (clock ticks)."""
    try:
        text = stat.read_text()
    except OSError:
        return None  # the process has gone
    return text[text.rindex(")") + 2 :].split()


def tree_cpu_seconds(root_pid: int) -> float:
    """User + system CPU of a process and its direct children (gunicorn master and workers)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = _stat_fields(stat)
        if fields is not None and (int(stat.parent.name) == root_pid or int(fields[1]) == root_pid):
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_seconds_by_pid(pids: Iterable[int]) -> dict[int, float]:
    """User + system CPU of each of ``pids`` that is a local process."""
    found = {}
    for pid in pids:
        fields = _stat_fields(Path(f"/proc/{pid}/stat"))
        if fields is not None:
            found[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return found


# -- databases ------------------------------------------------------------------------------------------------


def _libpq_url(url: str) -> str:
    scheme, rest = url.split("://", 1)
    if scheme not in {"postgres", "postgresql", "postgresql+psycopg"}:
        raise BenchError(f"--database-url must be a postgresql:// URL, got scheme {scheme!r}")
    return f"postgresql://{rest}"


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextlib.contextmanager
def fresh_postgres_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server of ``server_url``; dropped (connections and all) on exit."""
    admin_url = _libpq_url(server_url)
    name = f"chainlift_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _with_database(admin_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def postgres_backend_pids(database_url: str) -> list[int]:
    """The server processes serving ``database_url``'s database (so that their CPU is not counted as noise)."""
    name = urlsplit(database_url).path.lstrip("/")
    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (name,)
        ).fetchall()
    return [int(row[0]) for row in rows]


# -- ChainLift set-up -----------------------------------------------------------------------------------------


def server_env(instance_path: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "MEDIA_ROOT", "PUBLIC_BASE_URL"}}
    env["CHAINLIFT_INSTANCE_PATH"] = str(instance_path)
    env["SECRET_KEY"] = "bench"  # noqa: S105 - a throwaway instance on 127.0.0.1, deleted afterwards
    env["PYTHONUNBUFFERED"] = "1"
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return env


def prepare_chainlift(env: dict[str, str], port: int) -> str:
    """Migrate, publish the form, create the enumerator; returns its app-user base URL (…/key/<token>)."""
    flask_cli(["db", "upgrade"], env)
    flask_cli(["forms", "publish", str(FORM_XML)], env)
    flask_cli(["users", "create", USERNAME, "--role", "enumerator", "--password-stdin"], env, secrets.token_urlsafe(18))
    config = flask_cli(["users", "collect-config", USERNAME, "--server", f"http://{HOST}:{port}"], env)
    for line in config.splitlines():
        if "/key/" in line:
            return line.strip()
    raise BenchError(f"no /key/ URL in `flask users collect-config` output:\n{config}")


# -- load generation ------------------------------------------------------------------------------------------


def make_bodies(template: bytes, count: int) -> list[bytes]:
    """``count`` multipart bodies, each with a fresh uuid instanceID (encoded up front to spare client CPU)."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="xml_submission_file"; filename="instance.xml"\r\n'
        "Content-Type: text/xml\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    bodies = []
    for _ in range(count):
        instance = template.replace(INSTANCE_ID_MARKER, f"<instanceID>uuid:{uuid.uuid4()}</instanceID>".encode())
        bodies.append(head + instance + tail)
    return bodies


@dataclass
class Sink:
    """What the client threads report, under one lock."""

    latencies: list[float] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, seconds: float, status: int, text: str) -> None:
        with self.lock:
            if status == 201:
                self.latencies.append(seconds)
            else:
                self.errors.append((status, text[:300]))


def _post_one(session: requests.Session, url: str, body: bytes) -> tuple[int, str]:
    try:
        response = session.post(url, data=body, headers=POST_HEADERS, timeout=REQUEST_TIMEOUT_S)
    except requests.RequestException as exc:
        return 0, f"{type(exc).__name__}: {exc}"
    return response.status_code, response.text if response.status_code != 201 else ""


def _client(url: str, bodies: queue.SimpleQueue[bytes], start: threading.Barrier, deadline: float, sink: Sink) -> None:
    with requests.Session() as session:  # keep-alive where the server allows it (gunicorn sync workers close)
        start.wait()
        while time.monotonic() < deadline:
            try:
                body = bodies.get_nowait()
            except queue.Empty:
                return
            began = time.perf_counter()
            status, text = _post_one(session, url, body)
            sink.record(time.perf_counter() - began, status, text)


@dataclass(frozen=True)
class Target:
    """A server under test: its name in the report, submission URL, gunicorn master pid, PostgreSQL database."""

    name: str
    url: str
    pid: int
    database_url: str | None = None  # a local PostgreSQL database whose backends' CPU counts as "database"


@dataclass(frozen=True)
class CpuSample:
    """CPU seconds so far: the server's process tree, its PostgreSQL backends, this process (the clients), and
    the whole machine."""

    server: float
    database: dict[int, float]
    client: float
    machine: float

    @classmethod
    def take(cls, target: Target) -> CpuSample:
        backends = postgres_backend_pids(target.database_url) if target.database_url else []
        database = cpu_seconds_by_pid(backends)
        return cls(tree_cpu_seconds(target.pid), database, time.process_time(), machine_busy_seconds())

    def database_since(self, before: CpuSample) -> float:
        return sum(seconds - before.database.get(pid, 0.0) for pid, seconds in self.database.items())


@dataclass(frozen=True)
class RunResult:
    target: str
    clients: int
    planned: int
    elapsed: float
    latencies: list[float]
    errors: list[tuple[int, str]]
    server_cpu: float
    database_cpu: float  # PostgreSQL backends; NaN for SQLite, which runs inside the server processes
    client_cpu: float
    other_cpu: float  # everything else on the machine (other processes, hypervisor steal), CPU seconds

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def failed(self) -> int:
        return self.planned - self.ok  # non-201 answers plus posts never sent before the time limit

    @property
    def rate(self) -> float:
        return self.ok / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def other_percent(self) -> float:
        return 100 * self.other_cpu / (self.elapsed * (os.cpu_count() or 1)) if self.elapsed > 0 else math.nan

    def percentile_ms(self, p: int) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] * 1000 if self.latencies else math.nan
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1] * 1000

    def per_post_ms(self, cpu_seconds: float) -> float:
        return cpu_seconds / self.ok * 1000 if self.ok else math.nan


def machine_busy_seconds() -> float:
    """Non-idle CPU seconds of the whole machine since boot, counting hypervisor steal as busy (/proc/stat)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def run_load(target: Target, bodies: list[bytes], clients: int, max_seconds: float) -> RunResult:
    work: queue.SimpleQueue[bytes] = queue.SimpleQueue()
    for body in bodies:
        work.put(body)
    sink = Sink()
    start = threading.Barrier(clients + 1)
    deadline = time.monotonic() + max_seconds
    threads = [
        threading.Thread(
            target=_client, args=(target.url, work, start, deadline, sink), name=f"client-{i}", daemon=True
        )
        for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    start.wait()
    before, began = CpuSample.take(target), time.perf_counter()
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()) + REQUEST_TIMEOUT_S + 5)
    elapsed, after = time.perf_counter() - began, CpuSample.take(target)
    server, database, client = after.server - before.server, after.database_since(before), after.client - before.client
    other = max(0.0, after.machine - before.machine - server - database - client)
    with sink.lock:
        latencies, errors = list(sink.latencies), list(sink.errors)
    database_cpu = database if target.database_url else math.nan  # SQLite: inside the server processes
    return RunResult(target.name, clients, len(bodies), elapsed, latencies, errors, server, database_cpu, client, other)


def report_errors(result: RunResult) -> None:
    """Print the failed posts of a run, identical answers grouped."""
    if not result.failed:
        return
    print(f"  ERRORS {result.target}, {result.clients} client(s): {result.failed} of {result.planned}", flush=True)
    grouped = collections.Counter((status, " ".join(text.split())) for status, text in result.errors)
    for (status, text), count in grouped.most_common(MAX_PRINTED_ERRORS):
        print(f"    {count} x HTTP {status or '(no answer)'}: {text}", flush=True)
    if len(grouped) > MAX_PRINTED_ERRORS:
        print(f"    ... and {len(grouped) - MAX_PRINTED_ERRORS} other kinds of error", flush=True)
    unsent = result.planned - result.ok - len(result.errors)
    if unsent:
        print(f"    {unsent} post(s) not sent before the {result.target} time limit", flush=True)


def warm_up(target: Target, args: argparse.Namespace, template: bytes) -> None:
    """Uncounted posts, concurrent enough to reach every worker (imports, connections, statement caches)."""
    if args.warmup <= 0:
        return
    warm = run_load(target, make_bodies(template, args.warmup), max(args.clients), WARMUP_TIMEOUT_S)
    if warm.failed:
        report_errors(warm)
        raise BenchError(f"{target.name}: {warm.failed} of {args.warmup} warm-up posts failed")


def run_rounds(targets: list[Target], args: argparse.Namespace, template: bytes) -> list[RunResult]:
    """``--repeat`` rounds; within a round the servers alternate, so that machine noise hits both alike."""
    results = []
    for round_no in range(1, args.repeat + 1):
        for clients in args.clients:
            for target in targets:
                result = run_load(target, make_bodies(template, args.n), clients, args.max_seconds)
                report_errors(result)
                print(
                    f"  round {round_no} {target.name:<9} {clients:>2} client(s): {result.ok}/{result.planned} ok "
                    f"in {result.elapsed:.1f}s, {result.rate:.0f}/s, p50 {result.percentile_ms(50):.1f} ms, "
                    f"p95 {result.percentile_ms(95):.1f} ms, other load {result.other_percent:.0f}%",
                    flush=True,
                )
                results.append(result)
    return results


# -- the two servers ------------------------------------------------------------------------------------------


def start_chainlift(args: argparse.Namespace, tmp: Path, stack: contextlib.ExitStack) -> Target:
    port = free_port()
    database_url = None
    if args.database_url:
        database_url = stack.enter_context(fresh_postgres_database(args.database_url))
    env = server_env(tmp / "instance", database_url)
    base_url = prepare_chainlift(env, port)
    log_path = tmp / "gunicorn-chainlift.log"
    proc = stack.enter_context(
        gunicorn("wsgi:app", workers=args.workers, port=port, env=env, log_path=log_path, threads=args.threads)
    )
    print(f"ChainLift: gunicorn pid {proc.pid}, {args.workers} workers, {HOST}:{port}", flush=True)
    return Target("chainlift", f"{base_url}/submission", proc.pid, database_url)


def start_bare(args: argparse.Namespace, tmp: Path, stack: contextlib.ExitStack) -> Target:
    port = free_port()
    env = server_env(tmp / "bare-instance", None)
    env["BARE_DB_PATH"] = str(tmp / "bare.sqlite3")
    log_path = tmp / "gunicorn-bare.log"
    extra = ["--pythonpath", str(REPO / "bench")]
    proc = stack.enter_context(
        gunicorn(
            "bare_app:app",
            workers=args.workers,
            port=port,
            env=env,
            log_path=log_path,
            extra=extra,
            threads=args.threads,
        )
    )
    print(f"Bare ceiling: gunicorn pid {proc.pid}, {args.workers} workers, {HOST}:{port}", flush=True)
    return Target("bare", f"http://{HOST}:{port}/submission", proc.pid)


def benchmark(args: argparse.Namespace, tmp: Path, template: bytes) -> list[RunResult]:
    with contextlib.ExitStack() as stack:  # unwinds in reverse: servers stop before the database is dropped
        targets = []
        if args.only in {"both", "chainlift"}:
            targets.append(start_chainlift(args, tmp, stack))
        if args.only in {"both", "bare"}:
            targets.append(start_bare(args, tmp, stack))
        for target in targets:
            warm_up(target, args, template)
        return run_rounds(targets, args, template)


# -- report ---------------------------------------------------------------------------------------------------


def median_runs(results: list[RunResult]) -> dict[tuple[str, int], tuple[RunResult, float, float]]:
    """Per (server, clients): the run with the median rate (lower median), and the min and max rates."""
    groups: dict[tuple[str, int], list[RunResult]] = {}
    for result in results:
        groups.setdefault((result.target, result.clients), []).append(result)
    medians = {}
    for key, runs in groups.items():
        ranked = sorted(runs, key=lambda r: r.rate)
        medians[key] = (ranked[(len(ranked) - 1) // 2], ranked[0].rate, ranked[-1].rate)
    return medians


def _fmt(value: float, digits: int = 1) -> str:
    return "-" if math.isnan(value) else f"{value:.{digits}f}"


def _table(header: Sequence[str], rows: list[list[str]]) -> str:
    """A Markdown table: the first column left-aligned, the figures right-aligned."""
    lines = ["| " + " | ".join(header) + " |", "|---|" + "--:|" * (len(header) - 1)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _figures(run: RunResult) -> list[str]:
    return [f"{run.rate:.0f}", _fmt(run.percentile_ms(50)), _fmt(run.percentile_ms(95))]


def side_by_side(args: argparse.Namespace, medians: dict[tuple[str, int], tuple[RunResult, float, float]]) -> str:
    header = ["clients", "ChainLift sub/s", "p50 ms", "p95 ms", "ceiling sub/s", "p50 ms", "p95 ms", "ours/ceiling"]
    rows = []
    for clients in args.clients:
        ours, ceiling = medians[("chainlift", clients)][0], medians[("bare", clients)][0]
        ratio = ours.rate / ceiling.rate if ceiling.rate else math.nan
        rows.append([str(clients), *_figures(ours), *_figures(ceiling), _fmt(ratio, 2)])
    return _table(header, rows)


def details(medians: dict[tuple[str, int], tuple[RunResult, float, float]]) -> str:
    header = [
        "server",
        "clients",
        "sub/s (min-max)",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "errors",
        "server CPU ms/sub",
        "DB CPU ms/sub",
        "client CPU ms/sub",
        "other load %",
    ]
    rows = [
        [
            r.target,
            str(r.clients),
            f"{r.rate:.0f} ({low:.0f}-{high:.0f})",
            _fmt(r.percentile_ms(50)),
            _fmt(r.percentile_ms(95)),
            _fmt(r.percentile_ms(99)),
            str(r.failed),
            _fmt(r.per_post_ms(r.server_cpu), 2),
            _fmt(r.per_post_ms(r.database_cpu), 2),
            _fmt(r.per_post_ms(r.client_cpu), 2),
            _fmt(r.other_percent, 0),
        ]
        for r, low, high in medians.values()
    ]
    return _table(header, rows)


def print_report(args: argparse.Namespace, results: list[RunResult]) -> None:
    backend = "PostgreSQL" if args.database_url else "SQLite"
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    medians = median_runs(results)
    print(
        f"\n## Ingest: ChainLift on {backend} vs bare Flask + SQLite ceiling ({now})\n"
        f"nproc {os.cpu_count()}, Python {platform.python_version()}, gunicorn --workers {args.workers} "
        f"({'gthread, ' + str(args.threads) + ' threads' if args.threads > 1 else 'sync'}), "
        f"N={args.n} per run, median of {args.repeat} run(s), warm-up {args.warmup}\n"
    )
    if args.only == "both":
        print(side_by_side(args, medians))
        print()
    print(details(medians))
    failed = sum(r.failed for r in results)
    print(f"\nerrors (non-201 or unsent) over all {len(results)} runs: {failed}")
    if any(r.other_percent > NOISY_OTHER_PERCENT for r in results):
        print(f"warning: other load above {NOISY_OTHER_PERCENT:.0f}% in some runs; the machine was not quiet")


# -- main -----------------------------------------------------------------------------------------------------


def _raise_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # so that the finally blocks stop the servers and drop the database


def load_template() -> bytes:
    template = INSTANCE_XML.read_bytes()
    if INSTANCE_ID_MARKER not in template:
        raise BenchError(f"{INSTANCE_XML} has no {INSTANCE_ID_MARKER.decode()} to replace")
    return template


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_on_sigterm)
    tmp = Path(tempfile.mkdtemp(prefix="chainlift-bench-"))
    try:
        results = benchmark(args, tmp, load_template())
        print_report(args, results)
        return 1 if any(r.failed for r in results) else 0
    except BenchError as exc:
        print(f"bench/ingest.py: {exc}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
