"""What the soak measures: a process's resident memory and open descriptors, from ``/proc``,
and the visits the load made, from locust's CSV stats.

``proc_root`` is a parameter so tests can hand in a fake ``/proc``.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from rtcsim.soak.judge import Visits

PROC = Path("/proc")


class ProcessGone(Exception):
    """The process exited between two samples."""


def rss_kb(pid: int, proc_root: Path = PROC) -> int:
    """``VmRSS`` of ``/proc/<pid>/status`` (kB, as the kernel writes it)."""
    try:
        status = (proc_root / str(pid) / "status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        raise ProcessGone(pid) from None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise ProcessGone(pid)  # a zombie has no VmRSS


def open_fds(pid: int, proc_root: Path = PROC) -> int:
    try:
        return len(os.listdir(proc_root / str(pid) / "fd"))
    except (FileNotFoundError, ProcessLookupError):
        raise ProcessGone(pid) from None


def visits_from_csv(stats_csv: Path) -> Visits:
    """Joins, completed leaves, requests and failures from locust's ``stats_stats.csv``."""
    if not stats_csv.exists():
        return Visits(joins=0, leaves=0, requests=0, failures=0)
    with stats_csv.open(newline="") as fh:
        rows = {row["Name"]: row for row in csv.DictReader(fh)}

    def count(name: str, column: str = "Request Count") -> int:
        row = rows.get(name)
        return int(row[column]) if row is not None else 0

    return Visits(
        joins=count("join"),
        leaves=count("leave") - count("leave", "Failure Count"),
        requests=count("Aggregated"),
        failures=count("Aggregated", "Failure Count"),
    )
