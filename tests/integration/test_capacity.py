"""The capacity search on the real stack, and ``rtcsim compare`` telling a run made worse on
purpose (5 % loss on every subscriber) from two clean ones."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from rtcsim.cli import app
from rtcsim.pipeline.outcome import RunOutcome
from rtcsim.pipeline.runs import run_file
from simulator.settings import Settings
from tests.integration.janus_rooms import janus_rooms
from tests.integration.test_scenario_library import outcome_of

pytestmark = pytest.mark.integration

ONE_STEP = """\
name: capacity-compare
capacity:
  room: {{users: 3, publishers: 1, media: cheap, video: {{width: 320, height: 240}}{impair}}}
  max_steps: 1
  warmup_s: 2
  hold_s: 10
slo:
  - {{metric: join_success_ratio, op: ">=", value: 0.99}}
  - {{metric: subscriber_loss_pct, op: "<=", value: 1}}
"""


def test_the_ci_search_measures_each_step_and_reports_its_knee(running_stack: Settings) -> None:
    outcome = outcome_of("capacity-ci", running_stack)
    assert outcome.passed, [c for c in outcome.checks if not c.ok]
    capacity = outcome.sections["capacity"]
    steps = capacity["steps"]
    assert [s["rooms"] for s in steps] == [1, 2, 3]
    assert [s["streams"] for s in steps] == [3, 6, 9]
    assert capacity["ending"] == "max_steps"
    assert capacity["capacity_rooms"] == 3
    for step in steps:
        figures = step["figures"]
        assert step["verdict"] == "good", step["why"]
        assert figures["join_success_ratio"] == 1.0
        assert 0 <= figures["latency_p50_ms"] <= figures["latency_p95_ms"] <= 500
        assert figures["subscriber_loss_pct"] <= 2
        assert 25 <= figures["video_fps_p5"] <= 31
        assert step["server"]["samples"] >= 1  # Janus's monitoringStats inside the window
        assert step["server"]["cpu_per_stream_pct"] > 0
        assert step["generator"]["samples"] >= 4
    folder = outcome.results_dir
    assert orjson.loads((folder / "capacity.json").read_bytes())["capacity_rooms"] == 3
    summary = orjson.loads((folder / "summary.json").read_bytes())
    assert summary["capacity"]["headline"].startswith("capacity at least 3 rooms of 3")
    page = (folder / "report.html").read_text()
    assert 'data-panel="capacity"' in page
    assert page.count("data-knee=") >= 6  # five SLOs (latency, loss, first frame...) + CPU
    # The search leaves no room behind on Janus, though every room's last occupant had left
    # (an empty room stays until it is destroyed, and weighed on every later search).
    ledger = orjson.loads((folder / "ledger.json").read_bytes())
    rooms = {s["session_id"] for s in ledger["sessions"].values()}
    assert len(rooms) == 3
    assert rooms.isdisjoint(janus_rooms(running_stack))


def _run(scenario: Path, settings: Settings) -> RunOutcome:
    return asyncio.run(run_file(scenario, settings, progress=lambda _m: None))


def test_compare_flags_five_percent_subscriber_loss_and_passes_two_clean_runs(
    running_stack: Settings, tmp_path: Path
) -> None:
    clean = tmp_path / "clean.yaml"
    clean.write_text(ONE_STEP.format(impair=""))
    lossy = tmp_path / "lossy.yaml"
    lossy.write_text(ONE_STEP.format(impair=", subscriber_impairment: {loss_pct: 5}"))
    first, second = _run(clean, running_stack), _run(clean, running_stack)
    worse = _run(lossy, running_stack)
    assert first.exit_code == second.exit_code == 0
    assert worse.exit_code == 1  # its one step broke the loss SLO: capacity 0
    assert worse.sections["capacity"]["capacity_rooms"] == 0
    assert 3 <= worse.throughput["subscriber_loss_pct"] <= 7  # type: ignore[operator]

    def compare(baseline: RunOutcome, candidate: RunOutcome) -> tuple[int, dict[str, object]]:
        out = tmp_path / f"{candidate.run_id}.json"
        args = ["compare", str(baseline.results_dir), str(candidate.results_dir)]
        result = CliRunner().invoke(app, [*args, "--json", str(out)])
        return result.exit_code, orjson.loads(out.read_bytes())

    code, same = compare(first, second)
    assert code == 0, same
    code, regressed = compare(first, worse)
    assert code == 1
    assert "subscriber_loss_pct" in regressed["regressions"]  # type: ignore[operator]
