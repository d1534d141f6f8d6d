"""What the soak reads: /proc (a fake one here) and locust's CSV stats."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rtcsim.soak.probe import ProcessGone, open_fds, rss_kb, visits_from_csv
from rtcsim.soak.run import load_dir_from_log

HEADER = "Type,Name,Request Count,Failure Count,Median Response Time\n"


def fake_proc(root: Path, pid: int, rss: str, fds: int) -> Path:
    (root / str(pid) / "fd").mkdir(parents=True)
    (root / str(pid) / "status").write_text(f"Name:\tpython\nVmPeak:\t 9 kB\nVmRSS:\t {rss} kB\n")
    for n in range(fds):
        (root / str(pid) / "fd" / str(n)).touch()
    return root


def test_rss_and_fds_come_from_proc(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, 42, "81234", 11)
    assert rss_kb(42, proc) == 81234
    assert open_fds(42, proc) == 11


def test_a_vanished_process_is_process_gone(tmp_path: Path) -> None:
    with pytest.raises(ProcessGone):
        rss_kb(43, tmp_path)
    with pytest.raises(ProcessGone):
        open_fds(43, tmp_path)


def test_this_process_reads_for_real() -> None:
    assert rss_kb(os.getpid()) > 1000
    assert open_fds(os.getpid()) >= 3


def test_visits_are_joins_and_completed_leaves(tmp_path: Path) -> None:
    csv = tmp_path / "stats_stats.csv"
    csv.write_text(
        HEADER
        + "WebRTC,join,120,2,300\n"
        + "WebRTC,leave,117,1,20\n"
        + "WebRTC,first_frame,80,0,200\n"
        + ",Aggregated,450,3,100\n"
    )
    visits = visits_from_csv(csv)
    assert (visits.joins, visits.leaves, visits.requests, visits.failures) == (120, 116, 450, 3)


def test_no_csv_is_no_visits(tmp_path: Path) -> None:
    assert visits_from_csv(tmp_path / "missing.csv").leaves == 0


def test_the_load_dir_is_read_from_rtcsim_loads_last_line() -> None:
    log = (
        "Response time percentiles...\nlocust stats: /tmp/r/load-20261128-190600/stats_stats.csv\n"
    )
    assert load_dir_from_log(log) == Path("/tmp/r/load-20261128-190600")
    assert load_dir_from_log("locust crashed\n") is None
