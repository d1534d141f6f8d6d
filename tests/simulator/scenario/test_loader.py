from pathlib import Path

import pytest

from rtcsim.library import LIBRARY
from simulator.scenario.loader import ScenarioError, load_scenario, parse_scenario
from simulator.scenario.model import PublishStep, SubscribeStep

SMOKE = (LIBRARY / "smoke.yaml").read_text()
PUBLISH_LINE = 1 + next(i for i, line in enumerate(SMOKE.splitlines()) if "do: publish" in line)


def test_smoke_scenario_has_one_room_one_publisher_and_two_subscribers() -> None:
    scenario = load_scenario(LIBRARY / "smoke.yaml")
    assert [room.name for room in scenario.rooms] == ["smoke"]
    publishers = [w for s in scenario.timeline if isinstance(s, PublishStep) for w in s.who]
    subscribers = [w for s in scenario.timeline if isinstance(s, SubscribeStep) for w in s.who]
    assert publishers == ["alice"]
    assert subscribers == ["bob", "carol"]
    assert 14 <= scenario.duration_s <= 20


def test_out_of_range_field_names_file_line_and_path() -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(SMOKE.replace("fps: 30", "fps: 300"), "bad.yaml")
    message = str(caught.value)
    assert message.startswith(f"bad.yaml:{PUBLISH_LINE}: timeline[1].video.fps:")
    assert "less than or equal to 60" in message


def test_unknown_step_kind_is_an_error_at_its_line() -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(SMOKE.replace("do: publish", "do: publsh"), "bad.yaml")
    assert f"bad.yaml:{PUBLISH_LINE}: timeline[1]" in str(caught.value)
    assert "publish" in str(caught.value)


def test_unknown_participant_in_a_step_lists_the_known_ones() -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(SMOKE.replace("to: alice", "to: alicia"), "bad.yaml")
    assert "unknown participant 'alicia'" in str(caught.value)
    assert "alice, all, bob, carol" in str(caught.value)


def test_misspelled_key_is_rejected_rather_than_defaulted() -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(SMOKE.replace("audio: true", "audoi: true"), "bad.yaml")
    assert "audoi" in str(caught.value)


def test_broken_yaml_names_the_line() -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario("name: x\nrooms: [\n", "bad.yaml")
    assert str(caught.value).startswith("bad.yaml:3: not valid YAML")


def test_missing_file_is_a_scenario_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "nope.yaml")


def test_publish_with_neither_audio_nor_video_is_rejected() -> None:
    text = SMOKE.replace(
        "audio: true, video: {width: 640, height: 480, fps: 30}", "audio: false, video: null"
    )
    with pytest.raises(ScenarioError, match="needs audio, video or both"):
        parse_scenario(text, "bad.yaml")


def test_a_python_scenario_builds_its_timeline_with_code() -> None:
    scenario = load_scenario(LIBRARY / "staggered-arrivals.py")
    assert scenario.everyone == ["host"] + [f"viewer-{i}" for i in range(1, 7)]
    joins = [s.at for s in scenario.timeline if s.do == "join"]
    assert joins == [0.0, 2.5, 4.0, 5.5, 7.0, 8.5, 10.0]


def test_a_python_file_without_scenario_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.py"
    path.write_text("X = 1\n")
    with pytest.raises(ScenarioError, match="defines no SCENARIO"):
        load_scenario(path)


def test_a_python_scenario_with_a_bad_field_names_it(tmp_path: Path) -> None:
    path = tmp_path / "bad.py"
    path.write_text(
        "SCENARIO = {'name': 'x', 'rooms': [{'name': 'r'}], 'participants': [], 'timeline': []}\n"
    )
    with pytest.raises(ScenarioError, match="participants"):
        load_scenario(path)


LOAD = """\
name: load-x
load:
  locustfile: locust/load-small.py
  users: 4
  run_time_s: 30
expect:
  - name: joins
    metric: join_success_ratio
    op: ">="
    value: 0.9
  - name: viewers
    type: subscriberSummary
    aggregate: count
    op: ">"
    value: 0
"""


def test_a_load_scenario_has_a_load_section_and_may_mix_expectations() -> None:
    from simulator.scenario.load import LoadScenario
    from simulator.scenario.loader import parse_any_scenario
    from simulator.scenario.model import ThroughputExpectation

    scenario = parse_any_scenario(LOAD, "load.yaml")
    assert isinstance(scenario, LoadScenario)
    assert scenario.load.users == 4
    assert isinstance(scenario.expect[0], ThroughputExpectation)
    assert scenario.duration_s == 30


def test_an_unknown_throughput_metric_is_named_with_its_line() -> None:
    from simulator.scenario.loader import parse_any_scenario

    with pytest.raises(ScenarioError, match=r"load.yaml:8: expect\[0\]\.metric: Input should be"):
        parse_any_scenario(LOAD.replace("join_success_ratio", "joins_ok"), "load.yaml")


def test_a_load_scenario_is_not_taken_for_a_timeline_one() -> None:
    with pytest.raises(ScenarioError, match="load scenario"):
        parse_scenario(LOAD, "load.yaml")


def test_the_library_load_scenario_loads() -> None:
    from simulator.scenario.load import LoadScenario
    from simulator.scenario.loader import load_any_scenario

    scenario = load_any_scenario(LIBRARY / "load-distributed.yaml")
    assert isinstance(scenario, LoadScenario)
    assert scenario.load.workers == 2
    assert (LIBRARY / scenario.load.locustfile).is_file()
