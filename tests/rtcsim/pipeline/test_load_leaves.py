"""A load run checks that locust's stats counted a leave for every successful join."""

from __future__ import annotations

from pathlib import Path

from rtcsim.pipeline.load import leaves_check


def _stats_csv(tmp_path: Path, joins: int, join_failures: int, leaves: int) -> Path:
    path = tmp_path / "stats_stats.csv"
    path.write_text(
        "Type,Name,Request Count,Failure Count\n"
        f"WebRTC,join,{joins},{join_failures}\n"
        f"WebRTC,leave,{leaves},0\n"
        f",Aggregated,{joins + leaves},{join_failures}\n"
    )
    return path


def test_the_load_runs_check_holds_leaves_against_successful_joins(tmp_path: Path) -> None:
    assert leaves_check(_stats_csv(tmp_path, 474, 0, 474)).ok
    short = leaves_check(_stats_csv(tmp_path, 474, 0, 440))
    assert (short.ok, short.expected, short.found) == (False, 474, 440)
    assert leaves_check(_stats_csv(tmp_path, 10, 2, 8)).ok


def test_a_missing_stats_file_fails_the_check_saying_so(tmp_path: Path) -> None:
    check = leaves_check(tmp_path / "stats_stats.csv")
    assert not check.ok
    assert "unreadable" in check.found
