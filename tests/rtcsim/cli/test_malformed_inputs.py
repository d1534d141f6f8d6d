"""A new user's mistakes (issue 15's battery): each malformed scenario, setting or path gets exit 2
and one line on stderr naming the file and line (or the setting), never a traceback, and nothing
in the results folder is written or changed.

The scenarios are checked by ``rtcsim validate`` and ``rtcsim run`` (which validates every file
before anything plays, so no stack is needed); the settings by the commands that read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rtcsim.cli import app, framework
from simulator.impairment import capabilities as kernel

HEAD = """\
name: mistake
rooms:
  - name: r
participants:
  - {name: alice, room: r}
  - {name: bob, room: r}
timeline:
  - {at: 0.0, do: join, who: [alice, bob]}
"""
"""A valid start: line 8 is the join; a case's own lines follow from line 9."""

PUBLISH = "  - {at: 0.5, do: publish, who: alice}\n"


@dataclass(frozen=True)
class Case:
    name: str
    text: str | bytes
    where: str  # what stderr must say: "FILE:LINE" (FILE is the case's file name) or a setting
    suffix: str = ".yaml"


SCENARIOS = [
    Case(
        "a subscription to a participant that never publishes",
        HEAD + "  - {at: 2.0, do: subscribe, who: bob, to: alice}\n",
        ":9: timeline[1]: alice publishes nothing",
    ),
    Case(
        "a leave before any join",
        HEAD.replace("  - {at: 0.0, do: join, who: [alice, bob]}\n", "")
        + "  - {at: 0.0, do: leave, who: alice}\n",
        ":8: timeline[0]: alice has not joined",
    ),
    Case(
        "an unknown participant",
        HEAD + "  - {at: 1.0, do: leave, who: carol}\n",
        ":9: timeline[1].who: leave names unknown participant 'carol'",
    ),
    Case("a duplicate key", HEAD + "name: again\n", ":9: duplicate key 'name' (first at line 1)"),
    Case(
        "an expectation's type in the wrong case",
        HEAD + "expect:\n  - {name: x, type: webrtcstats, aggregate: count, op: '<', value: 1}\n",
        ":10: expect[0].type: 'webrtcstats' is not a document type; did you mean 'webrtcStats'?",
    ),
    Case(
        "an expectation's misspelt field",
        HEAD + "expect:\n  - {name: x, type: webrtcStats, aggregate: max, field: jiter, op: '<', "
        "value: 1}\n",
        ":10: expect[0].field: 'jiter' is not a field of webrtcStats documents",
    ),
    Case(
        "an expectation of a maximum without a field",
        HEAD + "expect:\n  - {name: x, type: cdr, aggregate: max, op: '<', value: 1}\n",
        ":10: expect[0]",
    ),
    Case(
        "a delay at kernel depth on a kernel without netem",
        HEAD + "  - {at: 1.0, do: impair, who: alice, direction: up, depth: kernel, "
        "delay_ms: 100}\n",
        ":9: timeline[1].depth: delay/jitter needs tc netem",
    ),
    Case("a binary file", b"\x00\xff\xfe\x01binary", ": not a text file"),
    Case("a YAML syntax error", "name: [unclosed\nrooms: {\n", ":2: not valid YAML"),
    Case("a list instead of a mapping", "- just\n- a list\n", ":1: a scenario is a mapping"),
    Case("an empty file", "", ":1: a scenario is a mapping"),
    Case(
        "a negative time",
        HEAD.replace("at: 0.0", "at: -1"),
        ":8: timeline[0].at: Input should be greater than or equal to 0",
    ),
    Case("an unknown step", HEAD + "  - {at: 1.0, do: dance, who: alice}\n", ":9: timeline[1]"),
    Case(
        "a video too small",
        HEAD + "  - {at: 1.0, do: publish, who: alice, video: {width: 0, height: 480}}\n",
        ":9: timeline[1].video.width",
    ),
    Case(
        "a misspelt step field",
        HEAD + "  - {at: 1.0, do: publish, who: alice, audoi: true}\n",
        ":9: timeline[1].audoi: Extra inputs are not permitted",
    ),
    Case(
        "a participant in a room that does not exist",
        HEAD.replace("{name: bob, room: r}", "{name: bob, room: q}"),
        ":6: participants[1].room",
    ),
    Case(
        "two participants of one name",
        HEAD.replace("{name: bob, room: r}", "{name: alice, room: r}").replace(
            "[alice, bob]", "alice"
        ),
        ":6: participants[1].name",
    ),
    Case(
        "an unsubscribe that was never subscribed",
        HEAD + PUBLISH + "  - {at: 3.0, do: unsubscribe, who: bob, to: alice}\n",
        ":10: timeline[2]",
    ),
    Case(
        "a load scenario of no users",
        "name: lb\nload:\n  locustfile: locust/load-small.py\n  users: 0\n",
        ":4: load.users: Input should be greater than or equal to 1",
    ),
    Case(
        "a load scenario whose locustfile is missing",
        "name: lb\nload:\n  locustfile: nothere.py\n  users: 2\n",
        ":3: load.locustfile: no file",
    ),
    Case(
        "Python that does not compile",
        "this is not python(\n",
        ":1: the scenario's code failed: SyntaxError",
        ".py",
    ),
    Case(
        "Python that raises",
        "x = 1\nraise ValueError('nope')\n",
        ":2: the scenario's code failed: ValueError: nope",
        ".py",
    ),
    Case("Python that defines no scenario", "x = 1\n", ": defines no SCENARIO", ".py"),
]


@pytest.fixture
def no_netem(monkeypatch: pytest.MonkeyPatch) -> None:
    """A kernel without netem (as this project's CI machine): the probe's cached answer."""
    monkeypatch.setattr(kernel, "_cached", kernel.Capabilities(False, True, True, True))


@pytest.fixture
def results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "results"
    folder.mkdir()
    return folder


def invoke(args: list[str], results: Path, **env: str) -> tuple[int, str, str]:
    outcome = CliRunner().invoke(app, args, env={"RTCSIM_RESULTS_DIR": str(results), **env})
    assert isinstance(outcome.exception, SystemExit | None), outcome.exception
    return outcome.exit_code, outcome.stdout, outcome.stderr


def assert_refused(code: int, out: str, err: str, where: str) -> None:
    assert code == 2, (out, err)
    assert where in err, err
    assert err.startswith("error: "), err
    assert "Traceback" not in out + err


@pytest.mark.usefixtures("no_netem")
@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize("case", SCENARIOS, ids=[case.name for case in SCENARIOS])
def test_a_malformed_scenario_is_refused_at_its_line_before_anything_plays(
    case: Case, command: str, results: Path
) -> None:
    path = Path(f"mistake{case.suffix}")
    if isinstance(case.text, bytes):
        path.write_bytes(case.text)
    else:
        path.write_text(case.text)
    code, out, err = invoke([command, str(path)], results)
    assert_refused(code, out, err, f"{path}{case.where}")
    assert list(results.iterdir()) == []


def test_every_cross_reference_problem_of_a_file_is_reported_at_once(results: Path) -> None:
    Path("two.yaml").write_text(
        HEAD
        + "  - {at: 2.0, do: subscribe, who: bob, to: alice}\n"
        + "  - {at: 3.0, do: leave, who: carol}\n"
    )
    code, _out, err = invoke(["validate", "two.yaml"], results)
    assert code == 2
    assert "two.yaml:9: timeline[1]" in err
    assert "two.yaml:10: timeline[2].who" in err


def test_a_missing_file_or_a_folder_is_one_line(results: Path) -> None:
    code, out, err = invoke(["validate", "nosuch.yaml"], results)
    assert_refused(code, out, err, "nosuch.yaml: no such file, and no library scenario")
    code, out, err = invoke(["validate", str(results)], results)
    assert_refused(code, out, err, f"{results}: cannot read")


@pytest.mark.parametrize(
    ("args", "variable", "value", "says"),
    [
        (["run", "smoke"], "RTCSIM_ES_PORT", "abc", "RTCSIM_ES_PORT=abc: es_port"),
        (["check", "some-run"], "RTCSIM_ES_PORT", "70000", "es_port: Input should be less"),
        (["export", "some-run"], "RTCSIM_JANUS_HTTP_PORT", "0", "janus_http_port"),
        (["report", "some-run"], "RTCSIM_ES_PORT", "x", "es_port"),
        (["services", "status"], "RTCSIM_COLLECTOR_API_PORT", "-1", "collector_api_port"),
        (["validate", "smoke"], "RTCSIM_JANUS_RTP_PORT_RANGE", "9-1", "janus_rtp_port_range"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(
    args: list[str], variable: str, value: str, says: str, results: Path
) -> None:
    code, out, err = invoke(args, results, **{variable: value})
    assert_refused(code, out, err, says)
    assert list(results.iterdir()) == []


def test_a_broken_settings_file_is_named(results: Path) -> None:
    Path("rtcsim.toml").write_text("es_port = [\n")
    code, out, err = invoke(["run", "smoke"], results)
    assert_refused(code, out, err, "rtcsim.toml: not valid TOML")


def test_a_misspelt_variable_is_warned_about_with_the_one_meant(
    results: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(framework, "_warned", False)  # once per process
    code, _out, err = invoke(["validate", "smoke"], results, RTCSIM_ES_PROT="9301")
    assert code == 0
    assert "RTCSIM_ES_PROT is not an rtcsim setting, ignored; did you mean RTCSIM_ES_PORT?" in err


def test_inspecting_a_missing_recording_is_one_line(results: Path) -> None:
    code, out, err = invoke(["recording", "inspect", "/nonexistent/rec.webm"], results)
    assert_refused(code, out, err, "/nonexistent/rec.webm: no such file")


@pytest.mark.parametrize(
    "args",
    [
        ["kibana", "import", "--file", "/nonexistent/objects.ndjson"],
        ["load", "/nonexistent/locustfile.py"],
        ["scenario", "from-session", "s", "--from-file", "/nonexistent/export.ndjson"],
    ],
    ids=["kibana objects", "locustfile", "export"],
)
def test_a_missing_input_file_is_named(args: list[str], results: Path) -> None:
    code, out, err = invoke(args, results)
    assert code == 2
    missing = next(arg for arg in args if arg.startswith("/nonexistent/"))
    assert missing in " ".join(err.split())
    assert "Traceback" not in out + err
