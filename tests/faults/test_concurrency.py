"""16 phones post 5,000 submissions at once to gunicorn with several workers: 10 % exact resubmissions, 5 %
conflicting copies. Every instance is stored once, byte for byte; every phone is told the truth; no 5xx."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from flask import Flask

from app.config import Settings
from tests.faults.checks import problems
from tests.faults.survey import baseline_interviews, with_attachments
from tests.faults.traffic import Clients, Kind, plan, tally
from tests.helpers import MadeUser
from tests.live import gunicorn

POSTS = 5000
CLIENTS = 16
RESUBMIT, CONFLICT = 0.10, 0.05
SURVEY = 1000  # of the unique instances, interviews of our MSE survey; the others are binaryType with two files


@pytest.mark.timeout(600)
def test_concurrent_posts_store_each_instance_once_and_answer_the_truth(
    app: Flask, settings: Settings, enumerators: list[MadeUser]
) -> None:
    unique = round(POSTS * (1 - RESUBMIT - CONFLICT))
    instances = baseline_interviews(app, SURVEY) + with_attachments(unique - SURVEY)
    rng = random.Random(7)  # noqa: S311 - a reproducible mix, not a secret
    rng.shuffle(instances)
    posts = plan(instances, RESUBMIT, CONFLICT, rng)
    assert len(posts) == POSTS

    with gunicorn(settings, workers=3, threads=4) as base:
        outcomes = Clients(lambda: base, enumerators, CLIENTS).run(posts)

    told = tally(posts, outcomes)
    assert not [s for (_, s) in told if not isinstance(s, int) or s >= 500], told
    first_answers: dict[str, Counter[object]] = {}
    for post in posts:
        answer = outcomes[post.seq].final
        if post.kind is Kind.CONFLICT:
            assert answer == 409, (post.instance.instance_id, answer)
        else:
            first_answers.setdefault(post.instance.instance_id, Counter())[answer] += 1
    # Of the exact copies of an instance, the one that got there first was told 201, every later one 202.
    wrong = {iid: c for iid, c in first_answers.items() if c[201] != 1 or c.total() != c[201] + c[202]}
    assert not wrong, list(wrong.items())[:5]
    assert problems(app, instances, settings.media_root) == []
