"""A run shorter than the collector's monitoring interval (10 s) still has its host samples: the
runner asks for one when it starts and one when it ends (``simulator.player.host_sample``), so
the built-in ``monitoringStats`` check applies to every run (issue 15). Real stack."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from rtcsim.pipeline.outcome import RunOutcome
from rtcsim.pipeline.timeline import run_scenario_file
from simulator.settings import Settings

pytestmark = pytest.mark.integration

SHORT = """\
name: short-host-samples
description: one publisher watched by one subscriber for about three seconds
seed: 3
rooms:
  - name: short
participants:
  - {name: alice, room: short}
  - {name: bob, room: short}
timeline:
  - {at: 0.0, do: join, who: [alice, bob]}
  - {at: 0.3, do: publish, who: alice, audio: true, video: {width: 320, height: 240, fps: 15}}
  - {at: 1.0, do: subscribe, who: bob, to: alice}
  - {at: 3.0, do: leave, who: [alice, bob]}
"""


@pytest.fixture(scope="module")
def short_run(running_stack: Settings, tmp_path_factory: pytest.TempPathFactory) -> RunOutcome:
    path: Path = tmp_path_factory.mktemp("short") / "short.yaml"
    path.write_text(SHORT)
    return asyncio.run(run_scenario_file(path, running_stack, progress=lambda _m: None))


def test_a_run_shorter_than_the_interval_has_its_start_and_end_samples(
    short_run: RunOutcome,
) -> None:
    ledger = short_run.ledger
    assert ledger.ended_ms is not None
    assert (ledger.ended_ms - ledger.started_ms) / 1000 < 10.0
    start, end = ledger.host_samples_ms
    assert ledger.started_ms <= start < end <= ledger.ended_ms
    stored = {d["timestamp"] for d in short_run.documents if d["elastic_type"] == "monitoringStats"}
    assert {start, end} <= stored


def test_the_monitoring_checks_apply_and_pass(short_run: RunOutcome) -> None:
    checks = {c.name: c for c in short_run.checks}
    # Present, so checked for its fields rather than passed as "n/a" (a presence check).
    assert "monitoringStats documents present" not in checks
    assert checks["monitoringStats fields and JSON types as OpenVidu's"].ok
    assert checks["the run's start and end monitoringStats are stored"].ok
    assert short_run.passed, [c for c in short_run.checks if not c.ok]
