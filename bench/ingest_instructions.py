"""CPU cost of one OpenRosa submission, in instructions: ChainLift against the bare ceiling, under callgrind.

bench/ingest.py measures submissions per second, which on a shared 2-core VM moves by ±20 % from one hour to
the next. This script counts the instructions that one POST costs instead, which does not depend on what else
the machine is doing, so a change to the ingest path can be judged by one run.

Both apps are called in process, through their WSGI entry point, with the same multipart bodies as
bench/ingest.py (simple.xml, a fresh instanceID each). Each runs in its own Python under
``valgrind --tool=callgrind`` with instrumentation off; after the imports and 20 uncounted warm-up POSTs it
waits, the parent switches instrumentation on (``callgrind_control -i on``), and the N counted POSTs follow.
The process then ends with ``os._exit`` so that interpreter shutdown is not counted. Waiting on fsync is not
an instruction: this is CPU only, not latency. No HTTP server is involved (gunicorn costs both apps the same).

    .venv/bin/python bench/ingest_instructions.py            # SQLite, 100 counted POSTs each
    .venv/bin/python bench/ingest_instructions.py --database-url postgresql://postgres@127.0.0.1:5432/test

Needs Debian's valgrind (callgrind and callgrind_control). About a minute per app.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import ingest  # noqa: E402 - bench/ingest.py: the same set-up, bodies and throwaway databases

WARMUP_POSTS = 20
CHILD_TIMEOUT_S = 900.0
REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=ingest._positive, default=100, help="counted POSTs per app (default 100)")
    parser.add_argument(
        "--database-url",
        help="run ChainLift on a fresh database on this PostgreSQL server (default: SQLite in a temp directory)",
    )
    parser.add_argument("--child", choices=("chainlift", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# -- the child: one app, called in process ---------------------------------------------------------------------


def _environ(path: str, body: bytes) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": ingest.HOST,
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": ingest.HOST,
        "CONTENT_TYPE": f"multipart/form-data; boundary={ingest.BOUNDARY}",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_X_OPENROSA_VERSION": "1.0",
        "HTTP_USER_AGENT": "chainlift-bench",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def _post_all(app: Callable[..., Iterable[bytes]], path: str, bodies: list[bytes]) -> list[str]:
    statuses: list[str] = []

    def start_response(status: str, _headers: object, _exc_info: object = None) -> None:
        statuses.append(status)

    for body in bodies:
        result = app(_environ(path, body), start_response)
        b"".join(result)
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return statuses


def child(args: argparse.Namespace) -> None:
    """Warm up, say ready, wait for instrumentation, then run the counted POSTs and leave without shutdown."""
    workdir: Path = args.dir
    os.environ.update(ingest.server_env(workdir / "instance", (workdir / "database_url").read_text() or None))
    os.environ["BARE_DB_PATH"] = str(workdir / "bare.db")
    if args.child == "chainlift":
        sys.path.insert(0, str(ingest.REPO))
        from wsgi import app  # imported after the environment is set

        path = f"/key/{(workdir / 'token').read_text()}/submission"
    else:
        from bare_app import app  # type: ignore[no-redef]

        path = "/submission"
    bodies = ingest.make_bodies(ingest.INSTANCE_XML.read_bytes(), WARMUP_POSTS + args.n)
    statuses = _post_all(app, path, bodies[:WARMUP_POSTS])
    (workdir / f"{args.child}.ready").write_text(str(os.getpid()))
    go = workdir / f"{args.child}.go"
    while not go.exists():
        time.sleep(0.05)
    statuses += _post_all(app, path, bodies[WARMUP_POSTS:])
    sys.stdout.flush()
    os._exit(0 if all(s.startswith("201") for s in statuses) else 3)


# -- the parent: set up once, count each app ------------------------------------------------------------------


def count(target: str, args: argparse.Namespace, workdir: Path) -> int:
    """Instructions per counted POST of one app."""
    command = [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={workdir / f'{target}.callgrind'}",
        sys.executable,
        __file__,
        "--child",
        target,
        "--n",
        str(args.n),
        "--dir",
        str(workdir),
    ]
    log = workdir / f"{target}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        try:
            ready = workdir / f"{target}.ready"
            deadline = time.monotonic() + CHILD_TIMEOUT_S
            while not ready.exists():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise ingest.BenchError(f"{target} did not get ready:\n{log.read_text()[-3000:]}")
                time.sleep(0.2)
            subprocess.run(["callgrind_control", "-i", "on", ready.read_text()], capture_output=True, check=True)
            (workdir / f"{target}.go").touch()
            code = proc.wait(timeout=CHILD_TIMEOUT_S)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    text = log.read_text()
    if code != 0:
        raise ingest.BenchError(f"{target} failed (exit {code}); a POST was not answered 201:\n{text[-3000:]}")
    match = REFS.search(text)
    if match is None:
        raise ingest.BenchError(f"no instruction count in callgrind's output for {target}:\n{text[-3000:]}")
    return int(match.group(1).replace(",", "")) // args.n


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        child(args)
    for tool in ("valgrind", "callgrind_control"):
        if shutil.which(tool) is None:
            print(f"error: {tool} not found; install Debian's valgrind package", file=sys.stderr)
            return 2
    database: contextlib.AbstractContextManager[str | None] = (
        ingest.fresh_postgres_database(args.database_url) if args.database_url else contextlib.nullcontext()
    )
    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    with tempfile.TemporaryDirectory(prefix="chainlift-instr-") as tmp, database as url:
        workdir = Path(tmp)
        (workdir / "database_url").write_text(url or "")
        env = ingest.server_env(workdir / "instance", url)
        base = ingest.prepare_chainlift(env, 80)
        (workdir / "token").write_text(base.rsplit("/key/", 1)[1].strip("/"))
        costs = {target: count(target, args, workdir) for target in ("chainlift", "bare")}
    where = "PostgreSQL" if args.database_url else "SQLite"
    print(f"Instructions per POST of simple.xml, in process, {args.n} counted POSTs each; ChainLift on {where}")
    print(f"{started}; {platform.node()}; Python {platform.python_version()}")
    print("| app | instructions per POST | against the ceiling |")
    print("|---|--:|--:|")
    for target, cost in costs.items():
        print(f"| {target} | {cost:,} | {cost / costs['bare']:.2f} x |")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ingest.BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
