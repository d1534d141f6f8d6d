"""Suite-wide: integration tests get the real stack, started (or reused) once, on demand.

Tests marked ``integration`` talk to the real Janus, Elasticsearch and collector at their
default addresses. On a fresh machine nothing runs yet, so the first such test brings the stack
up with the same code as ``make run``; unit tests never trigger it, nor do modules that set
``OWN_STACK = True`` (they bring up an isolated stack of their own) or ``DEFAULT_STACK = False``
(they need none of it, e.g. LiveKit's own tests: namespaces and livekit-server only).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rtcsim.services import stack
from simulator.settings import Settings
from tests.es_matrix import Nodes

_stack_ready = False


def pytest_runtest_setup(item: pytest.Item) -> None:
    global _stack_ready
    if item.get_closest_marker("integration") is None:
        if "running_stack" in getattr(item, "fixturenames", ()):
            # Unmarked, it would run in `make unit` and leave a default-slot stack up behind it
            # (it did: the ports it held failed the next clone's whole integration run).
            pytest.fail(f"{item.nodeid} uses the real stack: mark it integration", pytrace=False)
        return
    if _stack_ready:
        return
    if getattr(getattr(item, "module", None), "OWN_STACK", False):
        # The module builds an isolated stack of its own and must not start (or even probe)
        # the default one, which other runs on this machine may be using.
        return
    if not getattr(getattr(item, "module", None), "DEFAULT_STACK", True):
        return
    stack.up(Settings())
    _stack_ready = True


@pytest.fixture(scope="session")
def es_nodes() -> Iterator[Nodes]:
    """One Elasticsearch node per supported major, started on first use (``tests.es_matrix``)."""
    nodes = Nodes(Settings())
    try:
        yield nodes
    finally:
        nodes.stop_all()
