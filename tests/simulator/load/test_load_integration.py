"""A headless locust run of scenarios/locust/load-small.py against a real Janus of its own.

The stack is private to this module (its own namespaces, addresses and ports), so it neither
depends on nor disturbs the default stack or other tests running on the machine. Janus alone
is enough: load users talk to Janus, not to Elasticsearch or the collector.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.services import janus, netns
from simulator.settings import PROJECT_ROOT, Settings

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not janus.JANUS_BIN.exists(), reason="janus not installed"),
]

OWN_STACK: dict[str, object] = {
    "sfu_netns": "rtcld-sfu",
    "client_netns": "rtcld-cli",
    "sfu_veth": "rtcld-s0",
    "client_veth": "rtcld-c0",
    "sfu_address": "198.19.7.1",
    "client_address": "198.19.7.2",
    "es_port": 9270,
    "collector_events_port": 8690,
    "collector_api_port": 8691,
    "janus_http_port": 8688,
    "janus_admin_port": 7688,
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    root = tmp_path_factory.mktemp("load-stack")
    settings = Settings(
        **OWN_STACK,  # type: ignore[arg-type]
        state_dir=root / "state",
        results_dir=root / "results",
    )
    netns.ensure(settings)
    try:
        janus.start(settings)
        yield settings
    finally:
        janus.stop(settings)
        netns.remove(settings)


def _environment(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    for key, value in {
        **OWN_STACK,
        "state_dir": settings.state_dir,
        "results_dir": settings.results_dir,
    }.items():
        env[f"RTCSIM_{key.upper()}"] = str(value)
    return env


def test_a_headless_locust_run_reports_webrtc_timings_without_failures(stack: Settings) -> None:
    rtcsim = Path(sys.executable).parent / "rtcsim"
    done = subprocess.run(
        [
            str(rtcsim),
            "load",
            str(PROJECT_ROOT / "scenarios" / "locust" / "load-small.py"),
            "--users",
            "6",
            "--spawn-rate",
            "6",
            "--run-time",
            "40s",
            "--stop-timeout",
            "20",
        ],
        env=_environment(stack),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [stats_file] = stack.results_dir.glob("load-*/stats_stats.csv")
    with stats_file.open() as f:
        rows = {row["Name"]: row for row in csv.DictReader(f)}
    for phase in ("join", "ice_connected", "first_frame"):
        assert phase in rows, sorted(rows)
        assert rows[phase]["Type"] == "WebRTC"
        assert int(rows[phase]["Request Count"]) >= 2
    assert int(rows["Aggregated"]["Failure Count"]) == 0, rows
