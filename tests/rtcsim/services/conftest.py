"""Settings for service tests: never the default names, ports or state dir.

The default stack (``rtcsim-sfu``/``rtcsim-cli``, Elasticsearch on 9200...) may be running on
the same machine for someone else, so every test here uses names and ports of its own.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.settings import Settings

TEST_OVERRIDES: dict[str, object] = {
    "sfu_netns": "rtcsvc-sfu",
    "client_netns": "rtcsvc-cli",
    "sfu_veth": "rtcsvc-s0",
    "client_veth": "rtcsvc-c0",
    "sfu_address": "198.19.0.1",
    "client_address": "198.19.0.2",
    "es_port": 9250,
    "collector_events_port": 8190,
    "collector_api_port": 8191,
    "janus_http_port": 8188,
    "janus_admin_port": 7188,
}


def make_settings(state_dir: Path, **changes: object) -> Settings:
    """Settings with the test overrides, a private state dir and ``changes`` on top."""
    values: dict[str, object] = {**TEST_OVERRIDES, "state_dir": state_dir, **changes}
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "state")


LOCK_FILE = Path("/tmp/rtcsvc-it.lock")


@pytest.fixture(scope="session")
def integration_lock() -> Iterator[None]:
    """Integration runs on one machine share names and ports: one pytest session at a time."""
    with LOCK_FILE.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
