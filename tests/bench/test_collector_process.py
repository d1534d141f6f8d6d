"""The bench collector's CPU accounting: how long a process waited for a core."""

from __future__ import annotations

from pathlib import Path

from bench.collector_process import runqueue_wait_s


def test_runqueue_wait_sums_the_threads_second_schedstat_field(tmp_path: Path) -> None:
    for tid, line in (("41", "100 2000000000 5\n"), ("42", "7 500000000 2\n")):
        (tmp_path / "41" / "task" / tid).mkdir(parents=True)
        (tmp_path / "41" / "task" / tid / "schedstat").write_text(line)
    (tmp_path / "41" / "task" / "43").mkdir()  # a thread that ended: no schedstat any more
    assert runqueue_wait_s(41, proc=tmp_path) == 2.5
