"""Collect-like clients posting a planned mix of submissions over real HTTP, and what each one was answered.

A plan holds every post: new instances, exact resubmissions (same instanceID, same bytes: Collect retrying
after a lost answer) and conflicting copies (same instanceID, other bytes). Half the resubmissions race their
original (queued right after it, so two clients send them at once); the other copies wait until the original was
acknowledged, so that the true answer to a conflict is 409 whatever the order of the threads.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.utils import formatdate
from enum import StrEnum

import requests
from requests.auth import HTTPDigestAuth

from tests.faults.survey import Instance, conflicting
from tests.helpers import MadeUser

ACKNOWLEDGED = {201, 202}


class Kind(StrEnum):
    NEW = "new"
    RESUBMIT = "resubmit"
    CONFLICT = "conflict"


@dataclass(frozen=True)
class Post:
    seq: int
    instance: Instance
    kind: Kind
    waits_for: int | None = None  # the post whose acknowledgement this one waits for


@dataclass
class Outcome:
    """Every answer a post got (a status, or the connection error's name), in order."""

    answers: list[int | str] = field(default_factory=list)

    @property
    def final(self) -> int | str | None:
        return self.answers[-1] if self.answers else None


def plan(instances: Sequence[Instance], resubmit_share: float, conflict_share: float, rng: random.Random) -> list[Post]:
    """Posts for ``instances`` plus copies: ``resubmit_share`` and ``conflict_share`` of all posts."""
    total = round(len(instances) / (1 - resubmit_share - conflict_share))
    resubmitted = rng.sample(range(len(instances)), round(total * resubmit_share))
    conflicted = rng.sample(range(len(instances)), round(total * conflict_share))
    keyed: list[tuple[float, int, Kind, Instance]] = [(i, i, Kind.NEW, inst) for i, inst in enumerate(instances)]
    for n, i in enumerate(resubmitted):
        racing = n % 2 == 0
        keyed.append((i + 0.5 if racing else i + rng.randint(20, 300) + 0.6, i, Kind.RESUBMIT, instances[i]))
    keyed += [(i + rng.randint(20, 300) + 0.7, i, Kind.CONFLICT, conflicting(instances[i])) for i in conflicted]
    keyed.sort(key=lambda k: k[0])
    seq_of_new = {origin: seq for seq, (_, origin, kind, _) in enumerate(keyed) if kind is Kind.NEW}
    posts = []
    for seq, (key, origin, kind, inst) in enumerate(keyed):
        waits = None if kind is Kind.NEW or key == origin + 0.5 else seq_of_new[origin]
        posts.append(Post(seq, inst, kind, waits))
    return posts


@dataclass
class Retry:
    """Collect's behaviour after a failed upload: send again until acknowledged (or a deadline)."""

    until: float  # time.monotonic() deadline
    pause: float = 0.2
    on_status: frozenset[int] = frozenset({500, 502, 503, 504})


class Clients:
    """``count`` phones, each a thread with its own connection: even ones use an app-user URL (the token in the
    path), odd ones a user name and password (HTTP Digest after the 401 challenge), as ODK Collect does."""

    def __init__(self, base: Callable[[], str], users: Sequence[MadeUser], count: int) -> None:
        self.base, self.users, self.count = base, users, count
        self.outcomes: dict[int, Outcome] = {}
        self._acked: dict[int, threading.Event] = {}
        self._local = threading.local()
        self._ids = iter(range(10**9))
        self._lock = threading.Lock()

    def _phone(self) -> tuple[requests.Session, MadeUser, bool, int]:
        number: int | None = getattr(self._local, "number", None)
        if number is None:
            with self._lock:
                number = self._local.number = next(self._ids)
        user, digest = self.users[number % len(self.users)], number % 2 == 1
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.headers["X-OpenRosa-Version"] = "1.0"
            if digest:
                session.auth = HTTPDigestAuth(user.username, user.password)
        return session, user, digest, number

    def _hang_up(self) -> None:
        """A new connection for the next attempt, as after a network error."""
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is not None:
            session.close()
        self._local.session = None

    def _url(self) -> str:
        _, user, digest, _ = self._phone()
        return f"{self.base()}/submission" if digest else f"{self.base()}{user.prefix}/submission"

    def _send(self, post: Post) -> int:
        session, _, _, number = self._phone()
        parts = [("xml_submission_file", ("instance.xml", post.instance.xml, "text/xml"))]
        parts += [(name, (name, data, "application/octet-stream")) for name, data in post.instance.files.items()]
        response = session.post(
            self._url(),
            params={"deviceID": f"collect:phone{number}"},
            headers={"Date": formatdate(usegmt=True)},
            files=parts,
            timeout=60,
        )
        return response.status_code

    def _deliver(self, post: Post, outcome: Outcome, retry: Retry | None) -> None:
        while True:
            try:
                status: int | str = self._send(post)
            except requests.RequestException as exc:
                status = type(exc).__name__
            outcome.answers.append(status)
            if retry is None or status in ACKNOWLEDGED or time.monotonic() > retry.until:
                return
            if isinstance(status, int) and status not in retry.on_status:
                return
            time.sleep(retry.pause)
            self._hang_up()

    def acknowledged(self) -> int:
        """Posts acknowledged at least once so far; may be called while ``run`` goes on in another thread."""
        return sum(1 for o in list(self.outcomes.values()) if any(a in ACKNOWLEDGED for a in o.answers))

    def run(self, posts: Sequence[Post], retry: Retry | None = None) -> dict[int, Outcome]:
        """Send every post with ``count`` threads; without ``retry``, each is sent once."""
        for post in posts:
            self.outcomes[post.seq] = Outcome()
            self._acked[post.seq] = threading.Event()

        def one(post: Post) -> None:
            if post.waits_for is not None:
                self._acked[post.waits_for].wait(timeout=120)
            try:
                self._deliver(post, self.outcomes[post.seq], retry)
            finally:
                self._acked[post.seq].set()  # answered (or given up): whoever waits for it may go

        with ThreadPoolExecutor(max_workers=self.count) as pool:
            for future in [pool.submit(one, post) for post in posts]:
                future.result()
        return self.outcomes


def tally(posts: Sequence[Post], outcomes: dict[int, Outcome]) -> Counter[tuple[str, int | str | None]]:
    """(kind, final answer) -> posts: what the clients were told, for messages and the benchmark."""
    return Counter((post.kind.value, outcomes[post.seq].final) for post in posts)
