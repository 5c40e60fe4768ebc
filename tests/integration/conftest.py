"""A real gunicorn server on the test database, for the tests that talk HTTP as ODK Collect does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.config import Settings
from tests.helpers import Factory
from tests.live import gunicorn


@pytest.fixture
def server(settings: Settings, factory: Factory) -> Iterator[str]:
    with gunicorn(settings) as base:
        yield base
