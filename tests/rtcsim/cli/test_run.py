"""``rtcsim run`` and ``rtcsim validate`` as a command line: the version, clean help, the library by
name, several files of which one is broken (the others still run, a table of the files, the
worst exit code), ``--junit``, ``--json``, ``-q`` and ``--results-dir``.

Unit tests stop before anything plays; the integration test plays the library's smoke scenario.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from importlib import metadata
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from rtcsim.cli import app
from rtcsim.library import library_name, library_scenarios

BROKEN = """\
name: broken
rooms: [{name: r}]
participants: [{name: a, room: q}]
timeline: [{at: 0, do: join, who: a}]
"""


def invoke(args: list[str], results: Path) -> tuple[int, str, str]:
    done = CliRunner().invoke(app, args, env={"RTCSIM_RESULTS_DIR": str(results)})
    assert isinstance(done.exception, SystemExit | None), done.exception
    return done.exit_code, done.stdout, done.stderr


def test_version_prints_the_installed_version(tmp_path: Path) -> None:
    code, out, _err = invoke(["--version"], tmp_path)
    assert (code, out) == (0, f"rtcsim {metadata.version('rtcsim')}\n")


@pytest.mark.parametrize("command", ["run", "validate", "check", "report", "load"])
def test_help_shows_no_type_placeholders(command: str, tmp_path: Path) -> None:
    code, out, _err = invoke([command, "--help"], tmp_path)
    assert code == 0
    assert "<bool>" not in out
    assert "BOOLEAN" not in out
    assert "list[" not in out


def test_the_whole_library_validates_by_name(tmp_path: Path) -> None:
    names = [library_name(path) for path in library_scenarios()]
    assert "smoke" in names
    code, out, err = invoke(["validate", *names], tmp_path)
    assert code == 0, err
    assert out.count("ok  ") == len(names)


def test_a_run_of_broken_files_only_writes_their_errors_to_junit_and_json(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text(BROKEN)
    junit = tmp_path / "out" / "junit.xml"
    args = ["run", str(tmp_path / "broken.yaml"), "--junit", str(junit), "--json"]
    code, out, err = invoke(args, tmp_path / "results")
    assert code == 2
    assert "broken.yaml:3: participants[0].room" in err
    document = orjson.loads(out)
    assert document["exit_code"] == 2
    assert [run["file"] for run in document["runs"]] == [str(tmp_path / "broken.yaml")]
    (case,) = ET.parse(junit).getroot().iter("testcase")
    error = case.find("error")
    assert error is not None
    assert "participants[0].room" in (error.get("message") or "")
    assert not (tmp_path / "results").exists()


@pytest.mark.integration
def test_a_broken_file_does_not_stop_the_others(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text(BROKEN)
    junit = tmp_path / "junit.xml"
    results = tmp_path / "elsewhere"
    args = ["run", "smoke", str(tmp_path / "broken.yaml"), "--junit", str(junit)]
    code, out, err = invoke([*args, "--results-dir", str(results)], tmp_path / "results")
    assert code == 2, out + err  # the worst of the files: one did not validate
    assert "broken.yaml:3: participants[0].room" in err
    flat = " ".join(out.split())
    assert "PASSED" in flat
    assert "checks passed" in flat
    assert "not run" in flat  # the table of the files
    (run,) = [folder for folder in results.iterdir() if (folder / "summary.json").is_file()]
    assert orjson.loads((run / "summary.json").read_bytes())["passed"] is True
    suites = ET.parse(junit).getroot().findall("testsuite")
    assert len(suites) == 2
    assert not (tmp_path / "results").exists()
