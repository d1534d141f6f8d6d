"""Suite-wide: integration tests get the real stack, started (or reused) once, on demand.

Tests marked ``integration`` talk to the real Janus, Elasticsearch and collector at their
default addresses. On a fresh machine nothing runs yet, so the first such test brings the stack
up with the same code as ``make run``; unit tests never trigger it.
"""

from __future__ import annotations

import pytest

from simulator.services import stack
from simulator.settings import Settings

_stack_ready = False


def pytest_runtest_setup(item: pytest.Item) -> None:
    global _stack_ready
    if _stack_ready or item.get_closest_marker("integration") is None:
        return
    stack.up(Settings())
    _stack_ready = True
