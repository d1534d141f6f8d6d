"""Fixtures shared by the collector's tests."""

from __future__ import annotations

import pytest

from collector.clock import FixedClock
from collector.session_model import SessionModel


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def model(clock: FixedClock) -> SessionModel:
    return SessionModel(clock)
