"""Recompute many (chain, round) pairs on every core: one task per value chain, run in forked processes.

Each task reads its chain's pairs in one snapshot and stores each pair in a short write transaction, as the refresh
job does. Chains share no data, so a full recompute uses all the cores instead of one; a single chain, or a machine
without ``fork``, runs in this process.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

from flask import Flask

from app.db import engine_of, transaction
from app.indicators.stats import t_quantile
from app.services.indicators.refresh import Computed, read_pairs, store

_app: Flask | None = None  # the application of the parent, inherited by the forked workers


@dataclass(frozen=True)
class ChainDone:
    chain_id: int
    pairs: list[tuple[int, int, bool]]  # (round id, results, stored: False if a newer snapshot was there)
    seconds: float
    pid: int  # the process that computed it


def workers_for(chains: int, requested: int | None = None) -> int:
    return max(1, min(requested or os.cpu_count() or 1, chains))


def recompute(app: Flask, pairs: Sequence[tuple[int, int]], workers: int | None = None) -> Iterator[ChainDone]:
    """Compute and store ``pairs``, yielding each chain as it is done (in the order they finish)."""
    by_chain: dict[int, list[tuple[int, int]]] = {}
    for chain_id, round_id in pairs:
        by_chain.setdefault(chain_id, []).append((chain_id, round_id))
    count = workers_for(len(by_chain), workers)
    if count == 1 or "fork" not in multiprocessing.get_all_start_methods():
        with app.app_context():
            for keys in by_chain.values():
                yield _chain(keys)
        return
    t_quantile(2.0)  # imports scipy here once, so the forked workers share it instead of each importing it
    global _app  # noqa: PLW0603 - handed to the forked workers, which inherit the module's state
    _app = app
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(count, mp_context=context, initializer=_fresh_connections) as pool:
        futures = [pool.submit(_in_worker, keys) for keys in by_chain.values()]
        for future in as_completed(futures):
            yield future.result()


def _fresh_connections() -> None:
    """A forked worker must not touch the parent's pooled connections: it opens its own."""
    if _app is not None:
        engine_of(_app).dispose(close=False)


def _in_worker(keys: list[tuple[int, int]]) -> ChainDone:
    if _app is None:
        raise RuntimeError("fanout worker started without an application")
    with _app.app_context():
        return _chain(keys)


def compute_and_store(keys: list[tuple[int, int]]) -> Iterator[tuple[Computed, bool]]:
    """Read these pairs in one snapshot, then store each in its own short write transaction, yielding it with
    whether it was stored (False: a newer snapshot was there). The refresh job and the full recompute share it."""
    with transaction(snapshot=True) as session:
        computed = read_pairs(session, keys)
    for result in computed:
        with transaction(write=True) as session:
            stored = store(session, result)
        yield result, stored


def _chain(keys: list[tuple[int, int]]) -> ChainDone:
    started = time.perf_counter()
    done = [(result.round_id, len(result.rows), stored) for result, stored in compute_and_store(keys)]
    return ChainDone(keys[0][0], done, time.perf_counter() - started, os.getpid())
