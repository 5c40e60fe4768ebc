"""Soak: the concurrency and crash scenarios of tests/faults at a larger scale, on the production topology.

On one machine: gunicorn with several gthread workers, PostgreSQL (a throwaway database on --database-url),
Redis as the job broker (JOBS_URL=redis://…/<db>, a queue name of its own) and several `flask jobs worker`
processes. The instances are those of the fault tests: baseline interviews of our MSE survey from the demo
generator, and binaryType instances with two files each.

1. Concurrency: --clients phones (app-user URLs and Digest) post --posts submissions, 10 % exact resubmissions
   and 5 % conflicting copies, each sent once. Every answer must be the true one (201 for the first copy of an
   instance, 202 for a later exact copy, 409 for a conflict), no 5xx, every instance stored once.
2. Crash: --crash-posts more submissions; the server (its whole process group) and every job worker are
   SIGKILLed --kills times during the burst and started again; the phones retry until acknowledged. Then every
   acknowledged submission must be stored once and complete, and once the jobs settle the stored indicators
   must equal a clean recompute.

It prints what it held and exits 1 if anything was lost, duplicated or answered wrongly.

    .venv/bin/python bench/soak.py --database-url postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402

from app import create_app  # noqa: E402
from app.config import Settings, load_settings  # noqa: E402
from app.db import engine_of  # noqa: E402
from tests.conftest import TestDatabase  # noqa: E402
from tests.faults.checks import (  # noqa: E402
    differences,
    pending_marks,
    problems,
    recomputed_indicators,
    stored,
    stored_indicators,
)
from tests.faults.processes import JobWorker  # noqa: E402
from tests.faults.survey import Instance, baseline_interviews, prepare, with_attachments  # noqa: E402
from tests.faults.traffic import ACKNOWLEDGED, Clients, Kind, Outcome, Post, Retry, plan  # noqa: E402
from tests.helpers import Factory, MadeUser  # noqa: E402
from tests.live import Server  # noqa: E402


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="PostgreSQL server (a throwaway database is made)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9", help="job broker (its own queue name)")
    parser.add_argument("--posts", type=int, default=10_000, help="concurrency phase: posts in all")
    parser.add_argument("--survey-share", type=float, default=0.25, help="share of unique instances that are MSE")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--crash-posts", type=int, default=3_000, help="crash phase: posts in all")
    parser.add_argument("--kills", type=int, default=8)
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--job-workers", type=int, default=2, help="`flask jobs worker` processes")
    parser.add_argument("--seed", type=int, default=2026)
    return parser.parse_args()


def instances_for(app: Flask, unique: int, survey_share: float, seed: int, prefix: str) -> list[Instance]:
    survey = round(unique * survey_share)
    found = baseline_interviews(app, survey, seed=seed) + with_attachments(unique - survey, prefix=prefix)
    random.Random(seed).shuffle(found)
    return found


def duplicates(app: Flask) -> int:
    return sum(1 for row in stored(app).values() if row.submissions > 1 or len(row.versions) > 1)


def wrong_answers(posts: Sequence[Post], outcomes: dict[int, Outcome]) -> int:
    """Answers that are not the truth: 409 for a conflict; of an instance's exact copies one 201, the rest 202."""
    wrong = sum(1 for p in posts if p.kind is Kind.CONFLICT and outcomes[p.seq].final != 409)
    copies: dict[str, Counter[object]] = {}
    for p in posts:
        if p.kind is not Kind.CONFLICT:
            copies.setdefault(p.instance.instance_id, Counter())[outcomes[p.seq].final] += 1
    return wrong + sum(1 for c in copies.values() if c[201] != 1 or c.total() != c[201] + c[202])


def server_errors(outcomes: dict[int, Outcome]) -> int:
    return sum(1 for o in outcomes.values() for a in o.answers if isinstance(a, int) and a >= 500)


def concurrency(app: Flask, settings: Settings, users: list[MadeUser], args: argparse.Namespace) -> bool:
    unique = round(args.posts * 0.85)
    instances = instances_for(app, unique, args.survey_share, args.seed, "soak")
    posts = plan(instances, 0.10, 0.05, random.Random(args.seed))
    server = Server(settings, args.web_workers, args.threads)
    server.start()
    try:
        started = time.perf_counter()
        outcomes = Clients(lambda: server.base, users, args.clients).run(posts)
        elapsed = time.perf_counter() - started
    finally:
        server.stop()
    told = Counter(o.final for o in outcomes.values())
    report = {
        "posts": len(posts),
        "unique instances": unique,
        "clients": args.clients,
        "answers": dict(sorted(told.items(), key=str)),
        "wrong answers": wrong_answers(posts, outcomes),
        "5xx": server_errors(outcomes),
        "duplicates found": duplicates(app),
        "stored wrong or missing": len(problems(app, instances, settings.media_root)),
        "seconds": round(elapsed, 1),
        "posts/s": round(len(posts) / elapsed, 1),
    }
    show("Concurrency", report)
    return all(report[k] == 0 for k in ("wrong answers", "5xx", "duplicates found", "stored wrong or missing"))


def crash(app: Flask, settings: Settings, users: list[MadeUser], args: argparse.Namespace) -> bool:
    unique = round(args.crash_posts / 1.1)
    instances = instances_for(app, unique, args.survey_share, args.seed + 1, "crash")
    posts = plan(instances, 1 - unique / args.crash_posts, 0.0, random.Random(args.seed + 1))
    server = Server(settings, args.web_workers, args.threads)
    workers = [JobWorker(settings) for _ in range(args.job_workers)]
    clients = Clients(lambda: server.base, users, args.clients)
    server.start()
    for worker in workers:
        worker.start()
    started = time.perf_counter()
    try:
        burst = threading.Thread(target=clients.run, args=(posts, Retry(until=time.monotonic() + 3600)))
        burst.start()
        kills = 0
        for n in range(1, args.kills + 1):
            while burst.is_alive() and clients.acknowledged() < n / (args.kills + 1) * len(posts):
                time.sleep(0.05)
            if not burst.is_alive():
                break
            server.kill()
            for worker in workers:
                worker.kill()
            kills += 1
            time.sleep(random.uniform(0.2, 1.0))
            for worker in workers:
                worker.start()
            server.start()
        burst.join()
        elapsed = time.perf_counter() - started
        acked = {p.instance.instance_id for p in posts if clients.outcomes[p.seq].final in ACKNOWLEDGED}
        stored_now = stored(app)
        settle_started = time.perf_counter()
        while pending_marks(app) and time.perf_counter() - settle_started < 600:
            time.sleep(0.5)
        settled = time.perf_counter() - settle_started
    finally:
        for worker in workers:
            worker.stop()
        server.stop()
    different = differences(stored_indicators(app), recomputed_indicators(app))
    report = {
        "posts": len(posts),
        "clients": args.clients,
        "kills (server and every job worker)": kills,
        "attempts that failed and were retried": sum(len(o.answers) - 1 for o in clients.outcomes.values()),
        "acknowledged": len(acked),
        "never acknowledged": len({p.instance.instance_id for p in posts} - acked),
        "acknowledged but missing": len(acked - stored_now.keys()),
        "duplicates found": duplicates(app),
        "stored wrong (XML or files)": len(problems(app, instances, settings.media_root, only=False)),
        "5xx": server_errors(clients.outcomes),
        "indicator rows differing from a clean recompute": len(different),
        "seconds (burst)": round(elapsed, 1),
        "seconds until the jobs settled": round(settled, 1),
        "acknowledged/s": round(len(acked) / elapsed, 1),
    }
    show("Crash", report)
    keys = ("never acknowledged", "acknowledged but missing", "duplicates found", "stored wrong (XML or files)")
    return all(report[k] == 0 for k in (*keys, "indicator rows differing from a clean recompute"))


def show(title: str, report: dict[str, object]) -> None:
    print(f"\n{title}")
    for key, value in report.items():
        print(f"  {key:<48} {value}")


def main() -> int:
    args = arguments()
    tag = uuid.uuid4().hex[:8]
    queue = f"soak{tag}"
    with tempfile.TemporaryDirectory(prefix="chainlift-soak-") as tmp:
        database = TestDatabase(args.database_url, Path(tmp))
        database.create()
        try:
            settings = load_settings(
                {
                    "DATABASE_URL": database.url_for_test(None),
                    "CHAINLIFT_INSTANCE_PATH": str(Path(tmp) / "instance"),
                    "MEDIA_ROOT": str(Path(tmp) / "media"),
                    "SECRET_KEY": uuid.uuid4().hex,
                    "JOBS_URL": args.redis_url,
                    "JOBS_QUEUE": queue,
                }
            )
            app = create_app(settings)
            users = prepare(app, Factory(app), enumerators=8)
            print(f"{os.cpu_count()} CPUs; PostgreSQL database {database.pg_name}; jobs on {args.redis_url} ({queue})")
            print(f"gunicorn {args.web_workers} workers x {args.threads} threads; {args.job_workers} job workers")
            ok = concurrency(app, settings, users, args)
            ok = crash(app, settings, users, args) and ok
            engine_of(app).dispose()
        finally:
            database.drop()
            broker = redis.Redis.from_url(args.redis_url)
            for key in broker.scan_iter(f"*{tag}*"):
                broker.delete(key)
    print("\nHeld: nothing lost, nothing twice, every answer true." if ok else "\nFAILED: see above.")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
