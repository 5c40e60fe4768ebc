"""Indicator benchmark: a full recompute, the same indicators with pandas over an export, and freshness after bursts.

A throwaway instance (SQLite, or a throwaway PostgreSQL database with --database-url) gets the catalogue, our MSE
survey and a synthetic panel stored through the real submission pipeline (`demo generate --load`, not timed). With
--copies K, every firm and all it derived is then copied K - 1 times in SQL (bench/replicate.py), which reaches the
issue's 650,000 decisions in seconds instead of the hour the pipeline would take; --weights gives every firm round
its own survey weight (a worst case for grouping: no two firm rounds share one). Then, in one command and on the
same data:

1. ChainLift's full recompute of every (chain, round), as `flask indicators compute` runs it (app/jobs/fanout.py):
   chains in parallel processes (--workers, default one per core), each read in one snapshot, stored pair by pair.
2. The baseline: pandas reads an export of the same tables and computes the firm-level indicators UPG-01/02/03,
   UPG-04 per practice, UPG-07 per practice and RET-03 (participant DiD) for every chain, round and disaggregation,
   weighted, with their n_eff and Wilson/Welch intervals (a subset of the catalogue: the baseline is a yardstick
   for the aggregation work, not a second implementation of every indicator).
3. Freshness: a real `flask jobs worker` runs; bursts of edited interviews are stored through the submission
   service; the time from the end of a burst until no stale mark is left (the indicators reflect all of it).

    .venv/bin/python bench/indicators.py --firms 60 --copies 60 --weights
    .venv/bin/python bench/indicators.py --firms 60 --copies 60 --weights \
        --database-url postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql
from scipy.special import stdtrit
from sqlalchemy import func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from app.config import load_settings  # noqa: E402
from app.db import engine_of, transaction  # noqa: E402
from app.jobs import fanout  # noqa: E402
from app.models import (  # noqa: E402
    FirmObservation,
    IndicatorMark,
    Submission,
    SubmissionVersion,
    UpgradingDecision,
)
from app.services import demo  # noqa: E402
from app.services.indicators.refresh import pairs_to_compute  # noqa: E402
from bench.replicate import replicate  # noqa: E402

FLASK = [str(Path(sys.executable).with_name("flask")), "--app", "wsgi"]
DIMS = ("owner_gender", "size_class", "participant_status", "admin1", "urban_rural")
Z = 1.959964


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


def run(env: dict[str, str], *args: str) -> None:
    subprocess.run([*FLASK, *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def prepare(env: dict[str, str], chains: int, firms: int, rounds: int) -> float:
    started = time.perf_counter()
    run(env, "db", "upgrade")
    run(env, "catalogue", "load", "forms/catalogue.yaml")
    run(env, "rounds", "create", "R0", "--number", "0", "--kind", "baseline", "--if-missing")
    run(env, "forms", "publish", "forms/mse_survey.xlsx")
    run(env, "demo", "generate", f"--chains={chains}", f"--firms={firms}", f"--rounds={rounds}", "--seed=1", "--load")
    return time.perf_counter() - started


def scale_up(app: object, copies: int, weights: bool) -> float:
    """Copy the panel (``copies`` times in all) and give every firm round its own weight; ANALYZE; not timed."""
    started = time.perf_counter()
    engine = engine_of(app)  # type: ignore[arg-type]
    with engine.begin() as conn:
        replicate(conn, copies)
        if weights:  # 0.5-2.0, a different weight for each firm round, reproducible
            conn.execute(text("UPDATE firm_rounds SET round_weight = 0.5 + ((id * 7919) % 1000) / 666.0"))
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    return time.perf_counter() - started


def recompute(app: object, workers: int | None) -> tuple[float, int, int]:
    """A full recompute as `flask indicators compute` runs it: chains in parallel processes, each read in one
    snapshot and stored pair by pair."""
    with app.app_context(), transaction() as session:  # type: ignore[attr-defined]
        pairs = pairs_to_compute(session)
    started = time.perf_counter()
    done = list(fanout.recompute(app, pairs, workers))  # type: ignore[arg-type]
    return time.perf_counter() - started, sum(len(c.pairs) for c in done), sum(r for c in done for _, r, _ in c.pairs)


EXPORT = {
    "facts": """
        SELECT f.value_chain_id AS chain, o.round_id AS rnd, o.id AS obs, o.firm_id AS firm,
               COALESCE(fr.round_weight, 1.0) AS w, COALESCE(o.owner_sex, 'unknown') AS owner_gender,
               o.workers_family + o.workers_hired AS workers, COALESCE(fr.participant_status, 'unknown')
               AS participant_status, COALESCE(f.admin1, 'unknown') AS admin1,
               COALESCE(f.urban_rural, 'unknown') AS urban_rural, o.net_income AS net_income, r.number AS number,
               r.deflator_to_base AS deflator
        FROM firm_observations o JOIN firms f ON f.id = o.firm_id JOIN survey_rounds r ON r.id = o.round_id
        LEFT JOIN firm_rounds fr ON fr.firm_id = o.firm_id AND fr.round_id = o.round_id""",
    "decisions": """
        SELECT d.observation_id AS obs, d.practice_id AS practice, p.upgrading_type AS type, d.status AS status,
               d.applied_in_period AS applied
        FROM upgrading_decisions d JOIN upgrading_practices p ON p.id = d.practice_id WHERE p.is_active""",
}


def wilson(p: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z / (1 + Z * Z / n) * np.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return centre - half, centre + half


def weighted_shares(frame: pd.DataFrame, keys: list[str], y: str) -> pd.DataFrame:
    g = frame.assign(wy=frame.w * frame[y], w2=frame.w**2).groupby(keys, observed=True)
    out = g.agg(sw=("w", "sum"), sw2=("w2", "sum"), swy=("wy", "sum"), n=("w", "size"))
    out["p"] = out.swy / out.sw
    out["n_eff"] = out.sw**2 / out.sw2
    out["low"], out["high"] = wilson(out.p.to_numpy(), out.n_eff.to_numpy())
    return out


def by_every_group(frame: pd.DataFrame, keys: list[str], y: str) -> list[pd.DataFrame]:
    frames = [weighted_shares(frame.assign(group="all"), [*keys, "group"], y)]
    frames += [weighted_shares(frame.rename(columns={d: "group"}), [*keys, "group"], y) for d in DIMS]
    return frames


def pandas_baseline(engine: object) -> tuple[float, float, int]:
    started = time.perf_counter()
    with engine.connect() as conn:  # type: ignore[attr-defined]
        facts = pd.read_sql(text(EXPORT["facts"]), conn)
        decisions = pd.read_sql(text(EXPORT["decisions"]), conn)
    exported = time.perf_counter() - started
    started = time.perf_counter()
    facts["size_class"] = pd.cut(facts.workers, [0, 4, 20, 100, np.inf], labels=["micro", "small", "medium", "large"])
    facts["size_class"] = facts.size_class.astype(str).replace("nan", "unknown")
    decisions["applied"] = decisions.applied.astype(bool)
    per_firm = (
        decisions.assign(sus=decisions.status == "adopted")
        .groupby(["obs", "type"])
        .agg(app=("applied", "max"), sus=("sus", "max"))
    )
    wide = per_firm.unstack("type", fill_value=False)
    wide.columns = [f"{a}_{t}" for a, t in wide.columns]
    firms = facts.merge(wide, left_on="obs", right_index=True, how="left").fillna(dict.fromkeys(wide.columns, False))
    firms["app_any"] = firms[[c for c in wide.columns if c.startswith("app_")]].any(axis=1)
    results = []
    for column in [c for c in firms.columns if c.startswith(("app_", "sus_"))]:
        results += by_every_group(firms.assign(y=firms[column].astype(float)), ["chain", "rnd"], "y")
    practice = decisions.merge(firms[["obs", "chain", "rnd", "w", *DIMS]], on="obs")
    results += by_every_group(practice.assign(y=practice.applied.astype(float)), ["chain", "rnd", "practice"], "y")
    ever = practice[practice.status.isin(["adopted", "tried", "abandoned"])]
    results += by_every_group(
        ever.assign(y=(ever.status == "abandoned").astype(float)), ["chain", "rnd", "practice"], "y"
    )
    firms["real_income"] = firms.net_income.astype(float) * firms.deflator.astype(float)
    base = firms[firms.number == 0][["firm", "real_income"]].rename(columns={"real_income": "base_income"})
    panel = firms[firms.number > 0].merge(base, on="firm")
    panel["d"] = panel.real_income - panel.base_income
    for group in ["all", *DIMS]:
        keyed = panel.assign(group="all") if group == "all" else panel.rename(columns={group: "group"})
        moments = keyed.assign(wd=keyed.w * keyed.d, wd2=keyed.w * keyed.d**2, w2=keyed.w**2).groupby(
            ["chain", "rnd", "group", "participant_status" if group != "participant_status" else "group"],
            observed=True,
        )
        stats = moments.agg(sw=("w", "sum"), sw2=("w2", "sum"), swd=("wd", "sum"), swd2=("wd2", "sum"))
        stats["mean"] = stats.swd / stats.sw
        stats["n_eff"] = stats.sw**2 / stats.sw2
        stats["var"] = (stats.swd2 / stats.sw - stats["mean"] ** 2) * stats.n_eff / (stats.n_eff - 1)
        stats["v"] = stats["var"] / stats.n_eff
        results.append(stats)
    df = np.maximum(1.0, panel.groupby("chain").size().to_numpy().astype(float) - 2)
    _ = stdtrit(df, 0.975)
    computed = time.perf_counter() - started
    return exported, computed, sum(len(r) for r in results)


def edited(xml: bytes) -> bytes:
    """An edit of an interview, as Collect sends one: a new instanceID, the old one as deprecatedID, new costs."""
    old = re.search(rb"<instanceID>([^<]+)</instanceID>", xml)
    if old is None:
        raise ValueError("an interview without instanceID")
    new = f"uuid:{uuid.uuid4()}".encode()
    xml = xml.replace(
        old.group(0), b"<instanceID>" + new + b"</instanceID><deprecatedID>" + old.group(1) + b"</deprecatedID>"
    )
    xml = re.sub(rb"<deprecatedID>[^<]*</deprecatedID>(?=.*<deprecatedID>)", b"", xml, count=1, flags=re.DOTALL)
    return re.sub(
        rb"<input_cost>([0-9.]+)</input_cost>",
        lambda m: b"<input_cost>%.2f</input_cost>" % (float(m.group(1)) * 1.01 + 1),
        xml,
    )


def freshness(app: object, env: dict[str, str], bursts: int, size: int) -> list[float]:
    worker = subprocess.Popen(
        [*FLASK, "jobs", "worker", "--workers", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    delays = []
    try:
        with app.app_context():  # type: ignore[attr-defined]
            with transaction() as session:
                ids = list(session.scalars(select(Submission.id).order_by(Submission.id)))
                by, _ = demo.actor(session, "demo")
            for burst in range(bursts):
                chosen = ids[burst * size : (burst + 1) * size]
                for pk in chosen:
                    with transaction() as session:
                        version = session.scalar(
                            select(SubmissionVersion.xml)
                            .join(Submission, Submission.current_version_id == SubmissionVersion.id)
                            .where(Submission.id == pk)
                        )
                    with transaction(write=True) as session:
                        demo.store(session, by, edited(version))
                ended = time.perf_counter()
                while True:
                    with transaction() as session:
                        if not session.scalar(select(func.count()).select_from(IndicatorMark)):
                            break
                    if time.perf_counter() - ended > 120:
                        raise RuntimeError("the indicators did not catch up within 120 s")
                    time.sleep(0.02)
                delays.append(time.perf_counter() - ended)
                time.sleep(1.0)  # let the worker go idle between bursts
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    return delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chains", type=int, default=9)
    parser.add_argument("--firms", type=int, default=150, help="firms per chain at baseline (target scale: 2000)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--copies", type=int, default=1, help="copy the loaded panel to this many times its size")
    parser.add_argument("--weights", action="store_true", help="give every firm round its own survey weight")
    parser.add_argument("--workers", type=int, help="processes of the recompute (default: one per core)")
    parser.add_argument("--repeat", type=int, default=3, help="full recomputes to time (median reported)")
    parser.add_argument("--bursts", type=int, default=5)
    parser.add_argument("--burst-size", type=int, default=40)
    parser.add_argument("--database-url", help="a PostgreSQL server; a throwaway database is created on it")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="chainlift-bench-"))
    try:
        with throwaway_database(args.database_url, tmp) as url:
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "CHAINLIFT_INSTANCE_PATH": str(tmp / "instance"),
                "JOBS_URL": f"sqlite:///{tmp / 'jobs.sqlite3'}",
                "SECRET_KEY": uuid.uuid4().hex,
            }
            print(f"machine: {platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}")
            print(f"database: {url.split('@')[-1]}; date {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
            loading = prepare(env, args.chains, args.firms, args.rounds)
            settings = load_settings(env)
            app = create_app(settings)
            with app.app_context():
                copying = scale_up(app, args.copies, args.weights)
            with app.app_context(), transaction() as session:
                decisions = session.scalar(select(func.count()).select_from(UpgradingDecision))
                interviews = session.scalar(select(func.count()).select_from(Submission))
                firms = session.scalar(select(func.count()).select_from(FirmObservation))
            weighting = "one per firm round" if args.weights else "as generated"
            print(
                f"data: {interviews} interviews ({firms} firm rounds), {decisions} decisions (loaded in {loading:.0f} s"
                f", copied x{args.copies} in {copying:.0f} s, not timed); weights: {weighting}"
            )
            timings = [recompute(app, args.workers) for _ in range(args.repeat)]
            seconds = statistics.median(t[0] for t in timings)
            print(
                f"chainlift full recompute: {timings[0][1]} pairs, {timings[0][2]} results, "
                f"median {seconds:.2f} s of {[round(t[0], 2) for t in timings]}"
            )
            exported, computed, rows = pandas_baseline(engine_of(app))
            print(
                f"pandas baseline (subset): export {exported:.2f} s + compute {computed:.2f} s "
                f"= {exported + computed:.2f} s, {rows} result rows"
            )
            delays = freshness(app, env, args.bursts, args.burst_size)
            median = statistics.median(delays)
            print(
                f"freshness after bursts of {args.burst_size} edited interviews: median {median:.2f} s,"
                f" max {max(delays):.2f} s ({[round(d, 2) for d in delays]})"
            )
            engine_of(app).dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
