"""The table, the JSON file and the exit code of ``python -m bench``: pure functions of results."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from rich.console import Console

from bench.common import BenchResult
from bench.report import Outcome, exit_code, table, to_json, write_json

STARTED = datetime(2026, 11, 28, 19, 5, 0)


def _result(number: int, measured: float, target: float, better: str = "higher") -> BenchResult:
    return BenchResult(
        number=number,
        name=f"bench {number}",
        measured=measured,
        target=target,
        better=better,  # type: ignore[arg-type]
        unit="x",
        detail={"a": 1},
        note="side by side",
    )


def test_higher_is_better_result_is_met_at_its_target() -> None:
    assert _result(3, 0.9, 0.9).met
    assert not _result(3, 0.89, 0.9).met


def test_lower_is_better_result_is_missed_above_its_target() -> None:
    assert _result(4, 2.0, 2.0, "lower").met
    assert not _result(4, 2.01, 2.0, "lower").met
    assert _result(4, 1.0, 2.0, "lower").target_text == "<= 2 x"


def test_json_has_one_entry_per_benchmark_with_its_status() -> None:
    outcomes = [
        Outcome(1, "one", unavailable="not available: bench.generator"),
        Outcome(3, "three", result=_result(3, 0.5, 0.9)),
        Outcome(4, "four", result=_result(4, 0.2, 2.0, "lower")),
        Outcome(5, "five", error="RuntimeError: boom"),
    ]
    data = to_json(outcomes, STARTED, 12.34)
    statuses = {b["number"]: b["status"] for b in data["benchmarks"]}
    assert statuses == {1: "not available", 3: "missed", 4: "met", 5: "crashed"}
    three = data["benchmarks"][1]
    assert three["measured"] == 0.5
    assert three["target_text"] == ">= 0.9 x"
    assert three["detail"] == {"a": 1}
    assert data["wall_s"] == 12.3


def test_json_is_written_under_a_timestamped_folder(tmp_path: Path) -> None:
    path = write_json(tmp_path, [Outcome(3, "three", result=_result(3, 1.0, 0.9))], STARTED, 1.0)
    assert path == tmp_path / "bench-20261128-190500" / "bench.json"
    assert json.loads(path.read_text())["benchmarks"][0]["met"] is True


def test_a_missed_target_exits_zero_and_a_crash_exits_one() -> None:
    missed = Outcome(3, "three", result=_result(3, 0.1, 0.9))
    assert exit_code([missed, Outcome(1, "one", unavailable="n/a")]) == 0
    assert exit_code([missed, Outcome(5, "five", error="boom")]) == 1


def test_table_shows_measured_target_and_verdict() -> None:
    console = Console(width=200, record=True)
    console.print(
        table(
            [
                Outcome(3, "three", result=_result(3, 0.5, 0.9)),
                Outcome(2, "two", unavailable="not available"),
            ]
        )
    )
    text = console.export_text()
    assert "0.5 x" in text
    assert ">= 0.9 x" in text
    assert "NO" in text
    assert "n/a" in text
