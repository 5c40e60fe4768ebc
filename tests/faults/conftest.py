"""Fault tests share one set-up: our MSE survey with its catalogue, the binaryType form, four enumerators."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.faults.survey import prepare
from tests.helpers import Factory, MadeUser


@pytest.fixture
def enumerators(app: Flask, factory: Factory) -> list[MadeUser]:
    return prepare(app, factory)
