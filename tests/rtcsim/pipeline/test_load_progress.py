"""The progress line of a load run, from the CSV files locust rewrites while it runs."""

from __future__ import annotations

from pathlib import Path

from rtcsim.pipeline.load_progress import LoadProgress

STATS = """\
Type,Name,Request Count,Failure Count,Median Response Time,95%
WebRTC,first_frame,96,0,900,1100
WebRTC,ice_connected,145,0,800,1000
WebRTC,join,{joins},0,50,81
WebRTC,leave,139,0,60,86
,Aggregated,525,2,55,200
"""
HISTORY = """\
Timestamp,User Count,Type,Name,Requests/s,Failures/s,95%
1796134366,7,,Aggregated,2.6,0.0,1100
1796134367,12,,Aggregated,2.8,0.0,1100
"""


def test_a_line_holds_users_joins_per_second_failures_and_the_p95s(tmp_path: Path) -> None:
    progress = LoadProgress(tmp_path / "stats")
    assert progress.line(5) is None  # locust has written nothing yet
    (tmp_path / "stats_stats_history.csv").write_text(HISTORY)
    (tmp_path / "stats_stats.csv").write_text(STATS.format(joins=100))
    assert progress.line(10) == (
        "t=  10s users 12, joins 10.0/s (100 in all), failures 2, "
        "p95 join 81 ms, ice_connected 1000 ms, first_frame 1100 ms"
    )
    (tmp_path / "stats_stats.csv").write_text(STATS.format(joins=130))
    line = progress.line(20)
    assert line is not None
    assert "joins 3.0/s (130 in all)" in line
