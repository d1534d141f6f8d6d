"""The real stack for integration tests: the same services ``make run`` starts, reused if up."""

from __future__ import annotations

import pytest

from rtcsim.services import stack
from simulator.settings import Settings


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings()


@pytest.fixture(scope="session")
def running_stack(settings: Settings) -> Settings:
    stack.up(settings)
    return settings
