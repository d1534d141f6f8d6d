"""``run_file``: a scenario file is read and parsed once per run, whichever pipeline plays it,
and a timeline with a step its media server cannot do is refused before anything starts.

No stack is needed: the runs stop at their first contact with the services (a client namespace
that does not exist, a locustfile that is missing), after the scenario has been handed on.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from rtcsim.pipeline.outcome import SetupError
from rtcsim.pipeline.runs import run_file
from simulator.driver.capabilities import Capability, ServerReport
from simulator.driver.protocol import MediaServer
from simulator.scenario import loader
from simulator.scenario.loader import ScenarioError
from simulator.settings import Settings

PYTHON_SCENARIO = """
from pathlib import Path

with (Path(__file__).parent / "executions.txt").open("a") as log:
    log.write("ran\\n")

SCENARIO = {
    "name": "counted",
    "rooms": [{"name": "r"}],
    "participants": [{"name": "a", "room": "r"}],
    "timeline": [{"at": 0, "do": "join", "who": "a"}, {"at": 1, "do": "leave", "who": "a"}],
}
"""

LOAD_SCENARIO = """
name: counted-load
load: {locustfile: missing-locustfile.py, users: 1, spawn_rate: 1, run_time_s: 5}
"""


def no_stack(tmp_path: Path) -> Settings:
    return Settings(client_netns="rtcsim-absent-ns", results_dir=tmp_path / "results")


def test_a_python_scenario_s_code_runs_once_per_run(tmp_path: Path) -> None:
    path = tmp_path / "counted.py"
    path.write_text(PYTHON_SCENARIO)
    with pytest.raises(SetupError):
        asyncio.run(run_file(path, no_stack(tmp_path), progress=lambda _m: None))
    assert (tmp_path / "executions.txt").read_text().splitlines() == ["ran"]


def test_a_load_scenario_is_parsed_once_per_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "counted-load.yaml"
    path.write_text(LOAD_SCENARIO)
    parsed: list[str] = []
    real = loader.read_any_scenario

    def counting(text: str, source: str = "<scenario>") -> loader.ScenarioFile:
        parsed.append(source)
        return real(text, source)

    monkeypatch.setattr(loader, "read_any_scenario", counting)
    # The missing locustfile is found by the validation, before anything starts.
    with pytest.raises(ScenarioError, match=r":3: load\.locustfile: no file"):
        asyncio.run(run_file(path, no_stack(tmp_path), progress=lambda _m: None))
    assert parsed == [str(path)]


KICKING = """
name: kicking
rooms: [{name: r}]
participants: [{name: a, room: r}, {name: b, room: r}]
timeline:
  - {at: 0, do: join, who: all}
  - {at: 1, do: kick, who: b}
  - {at: 2, do: leave, who: a}
"""


class NoKickServer:
    """A driver whose server cannot kick; it must never be connected to."""

    name = "nokick"
    capabilities = frozenset(Capability) - {Capability.KICK}
    reports = frozenset(ServerReport)

    async def connect(self) -> MediaServer:
        raise AssertionError("a refused scenario connected to the server")


def test_a_step_the_server_cannot_do_is_refused_before_the_run_starts(tmp_path: Path) -> None:
    path = tmp_path / "kicking.yaml"
    path.write_text(KICKING)
    settings = no_stack(tmp_path)
    with pytest.raises(ScenarioError) as refused:
        asyncio.run(run_file(path, settings, progress=lambda _m: None, driver=NoKickServer()))
    assert str(refused.value) == (
        f"{path}:7: timeline[1]: needs kick, which the nokick media server cannot do"
    )
    assert not settings.results_dir.exists()  # no run folder: nothing was started
