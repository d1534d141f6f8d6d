"""The real stack for integration tests: the same services ``make run`` starts, reused if up."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from simulator.services import stack
from simulator.settings import Settings


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings()


@pytest.fixture(scope="session")
def running_stack(settings: Settings) -> Iterator[Settings]:
    stack.up(settings)
    yield settings
