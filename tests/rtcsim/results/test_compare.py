"""Two runs compared metric by metric, regressions by thresholds that know which way is worse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from rtcsim.results.compare import (
    Threshold,
    ThresholdError,
    compare,
    parse_fail_on,
    read_run,
    read_thresholds_file,
)
from rtcsim.results.folders import ResultsError

CLEAN = {
    "join_success_ratio": 1.0,
    "ice_p95_ms": 900.0,
    "first_frame_p95_ms": 1000.0,
    "latency_p50_ms": 2.0,
    "latency_p95_ms": 30.0,
    "subscriber_loss_pct": 0.0,
    "jitter_p95_ms": 12.0,
    "video_fps_p5": 29.5,
    "server_cpu_per_stream_pct": 0.8,
    "docs_per_second": 6.0,
}


def write_run(
    folder: Path, figures: dict[str, Any], *, capacity: dict[str, Any] | None = None
) -> Path:
    folder.mkdir(parents=True)
    summary: dict[str, Any] = {"run_id": folder.name, "scenario": "cap", "throughput": figures}
    if capacity is not None:
        summary["capacity"] = capacity
    (folder / "summary.json").write_bytes(orjson.dumps(summary))
    return folder


def _capacity(rooms: int, step: int = 2) -> dict[str, Any]:
    steps = [{"rooms": r} for r in range(step, rooms + 2 * step, step)]
    return {"capacity_rooms": rooms, "steps": steps}


def test_two_clean_runs_with_ordinary_noise_are_no_regression(tmp_path: Path) -> None:
    noisy = CLEAN | {"ice_p95_ms": 1300.0, "latency_p95_ms": 45.0, "subscriber_loss_pct": 0.3}
    a = read_run(write_run(tmp_path / "a", CLEAN, capacity=_capacity(8)))
    b = read_run(write_run(tmp_path / "b", noisy, capacity=_capacity(6)))  # one step fewer
    comparison = compare(a, b)
    assert comparison.passed, comparison.markdown()
    assert {row.metric: row.verdict for row in comparison.rows}["capacity_rooms"] == "worse"


def test_five_percent_loss_on_every_subscriber_is_a_regression(tmp_path: Path) -> None:
    lossy = CLEAN | {"subscriber_loss_pct": 5.1, "video_fps_p5": 20.0}
    a = read_run(write_run(tmp_path / "a", CLEAN, capacity=_capacity(8)))
    b = read_run(write_run(tmp_path / "b", lossy, capacity=_capacity(0)))
    comparison = compare(a, b)
    assert [row.metric for row in comparison.regressions] == [
        "subscriber_loss_pct",
        "video_fps_p5",
        "capacity_rooms",
    ]
    loss = next(row for row in comparison.rows if row.metric == "subscriber_loss_pct")
    assert (loss.diff, loss.change_pct) == (pytest.approx(5.1), None)  # from 0: no ratio
    assert "| subscriber loss | 0 % | 5.1 % | +5.1 | 1 | **regression** |" in comparison.markdown()
    data = comparison.as_dict()
    assert data["passed"] is False
    assert data["regressions"][0] == "subscriber_loss_pct"


def test_capacities_under_different_cpu_budgets_are_shown_never_judged(tmp_path: Path) -> None:
    """Half the rooms under a 0.3 core budget is no regression from an unbounded server: they
    measured different servers. Everything else is still judged."""
    worse = CLEAN | {"subscriber_loss_pct": 5.0}
    a = read_run(write_run(tmp_path / "a", CLEAN, capacity=_capacity(16)))
    b = read_run(
        write_run(tmp_path / "b", worse, capacity=_capacity(8) | {"server_cpu_cores": 0.3})
    )
    assert (a.server_cpu_cores, b.server_cpu_cores) == (None, 0.3)
    comparison = compare(a, b)
    verdicts = {row.metric: row.verdict for row in comparison.rows}
    assert verdicts["capacity_rooms"] == "incomparable"
    assert verdicts["server_cpu_per_stream_pct"] == "incomparable"
    assert [row.metric for row in comparison.regressions] == ["subscriber_loss_pct"]
    assert comparison.notes == [
        "the server's CPU budget was none in the baseline and 0.3 core in the candidate: "
        "capacity and CPU per stream are not comparable, so not judged"
    ]
    assert comparison.as_dict()["notes"] == comparison.notes
    assert "Note: the server's CPU budget was none" in comparison.markdown()
    same = read_run(
        write_run(tmp_path / "c", CLEAN, capacity=_capacity(4) | {"server_cpu_cores": 0.3})
    )
    again = compare(b, same)
    assert {row.metric: row.verdict for row in again.rows}["capacity_rooms"] == "regression"
    assert not again.notes


def test_which_way_is_worse_depends_on_the_metric(tmp_path: Path) -> None:
    base = read_run(write_run(tmp_path / "a", {"latency_p95_ms": 300.0, "docs_per_second": 10.0}))
    better = read_run(write_run(tmp_path / "b", {"latency_p95_ms": 20.0, "docs_per_second": 30.0}))
    rows = {row.metric: row.verdict for row in compare(base, better).rows}
    assert rows == {"latency_p95_ms": "better", "docs_per_second": "better"}
    rows = {row.metric: row.verdict for row in compare(better, base).rows}
    assert rows == {"latency_p95_ms": "regression", "docs_per_second": "regression"}


def test_a_metric_only_one_run_measured_is_shown_never_judged(tmp_path: Path) -> None:
    a = read_run(write_run(tmp_path / "a", {"latency_p95_ms": 10.0}))
    b = read_run(write_run(tmp_path / "b", {"latency_p95_ms": None, "ice_p95_ms": 10_000.0}))
    comparison = compare(a, b)
    assert comparison.passed
    assert [row.verdict for row in comparison.rows] == ["missing", "missing"]


def test_thresholds_are_relative_absolute_or_both() -> None:
    assert Threshold.parse("m", "20%").breached(21, 100, None)
    assert not Threshold.parse("m", "20%").breached(19, 100, None)
    assert Threshold.parse("m", "0.5").breached(0.6, 0, None)
    both = Threshold.parse("m", "50%+25")
    assert not both.breached(20, 1, None)  # 2000 % worse, but only by 20
    assert not both.breached(40, 100, None)  # by 40, but only 40 %
    assert both.breached(60, 100, None)
    assert Threshold.parse("capacity_rooms", "step").breached(3, 8, 2)
    assert not Threshold.parse("capacity_rooms", "step").breached(2, 8, 2)
    assert str(both) == "50%+25"


@pytest.mark.parametrize("bad", ["latency_p95_ms=fast", "latency_p95_ms", "nonsense=5%"])
def test_a_threshold_that_cannot_be_read_says_which_and_how(bad: str) -> None:
    with pytest.raises(ThresholdError, match=r"latency_p95_ms|nonsense"):
        parse_fail_on([bad])


def test_fail_on_and_a_yaml_file_set_thresholds(tmp_path: Path) -> None:
    limits = parse_fail_on(["latency_p95_ms=10%", "subscriber_loss_pct=0.2"])
    assert limits["latency_p95_ms"] == Threshold(relative_pct=10.0)
    path = tmp_path / "thresholds.yaml"
    path.write_text("thresholds:\n  latency_p95_ms: 5%+2\n  capacity_rooms: step\n")
    assert read_thresholds_file(path)["latency_p95_ms"] == Threshold(5.0, 2.0)
    path.write_text("- not a mapping\n")
    with pytest.raises(ThresholdError, match="mapping"):
        read_thresholds_file(path)


def test_a_folder_without_a_summary_is_a_results_error(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match=r"summary\.json"):
        read_run(tmp_path)
