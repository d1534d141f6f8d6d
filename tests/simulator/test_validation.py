"""``validate_file``: a scenario's problems on a given media server, file:line each."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.driver.capabilities import ServerReport
from simulator.driver.livekit.server import LIVEKIT_CAPABILITIES
from simulator.scenario.problems import ScenarioError
from simulator.validation import Server, validate_file

SCENARIO = """\
name: e
rooms: [{name: r}]
participants: [{name: a, room: r}]
timeline:
  - {at: 0, do: join, who: a}
  - {at: 5, do: leave, who: a}
expect:
  - {name: loss, type: webrtcStats, filter: {rtcsim_side: server}, field: packetsLost,
     aggregate: max, op: '>=', value: 0}
"""


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "e.yaml"
    path.write_text(SCENARIO)
    return path


def test_an_expectation_on_server_stats_is_a_problem_on_a_server_without_them(
    tmp_path: Path,
) -> None:
    server = Server("livekit", LIVEKIT_CAPABILITIES, frozenset({ServerReport.SUBSCRIBERS}))
    with pytest.raises(ScenarioError) as caught:
        validate_file(_file(tmp_path), server, kernel_probe=lambda: pytest.fail("no probe"))
    said = str(caught.value)
    assert "e.yaml:8" in said
    assert "needs media_stats, which the livekit media server does not report" in said


def test_the_same_expectation_validates_on_a_server_that_reports_media_stats(
    tmp_path: Path,
) -> None:
    server = Server("janus", LIVEKIT_CAPABILITIES)  # reports: all of them by default
    scenario = validate_file(_file(tmp_path), server, kernel_probe=lambda: pytest.fail("no"))
    assert scenario.name == "e"
