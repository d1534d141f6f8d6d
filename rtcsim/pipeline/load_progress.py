"""What a load run prints while locust runs (issue 15: load runs printed nothing for minutes): users
live, joins per second since the last line, failures, and the 95th percentiles of the WebRTC
timings, read from the CSV files locust rewrites every second with ``--csv PREFIX``
(``PREFIX_stats.csv``: one row per request name and an ``Aggregated`` row, totals since the
start; ``PREFIX_stats_history.csv``: one ``Aggregated`` row a second with the user count).
See locust's "Retrieve test statistics in CSV format" documentation for the columns.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

TIMINGS = ("join", "ice_connected", "first_frame")
"""The request names of ``simulator.load.timings`` whose p95 a line shows, in visit order."""


@dataclass
class LoadProgress:
    """Reads the stats of one run; each :meth:`line` covers the time since the previous one."""

    csv_prefix: Path
    _joins: int = 0
    _at_s: float = 0.0
    _seen: dict[str, int] = field(default_factory=dict)

    def line(self, elapsed_s: float) -> str | None:
        """``t=  40s users 12, joins 1.5/s, failures 0, p95 join 81 ms, ...``; None before
        locust has written its first stats."""
        rows = _rows(self.csv_prefix.with_name(self.csv_prefix.name + "_stats.csv"))
        if not rows:
            return None
        by_name = {row.get("Name", ""): row for row in rows}
        joins = _int(by_name.get("join", {}).get("Request Count"))
        span = elapsed_s - self._at_s
        rate = (joins - self._joins) / span if span > 0 else 0.0
        self._joins, self._at_s = joins, elapsed_s
        total = by_name.get("Aggregated", {})
        history = _rows(self.csv_prefix.with_name(self.csv_prefix.name + "_stats_history.csv"))
        users = history[-1].get("User Count", "?") if history else "?"
        parts = [
            f"t={elapsed_s:4.0f}s users {users}",
            f"joins {rate:.1f}/s ({joins} in all)",
            f"failures {_int(total.get('Failure Count'))}",
        ]
        p95 = [f"{name} {by_name[name]['95%']} ms" for name in TIMINGS if name in by_name]
        if p95:
            parts.append("p95 " + ", ".join(p95))
        return ", ".join(parts)


def _rows(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(newline="") as handle:
            return list(csv.DictReader(handle))
    except (OSError, csv.Error):
        return []  # not written yet, or caught mid-rewrite: the next line will have it


def _int(value: str | None) -> int:
    try:
        return int(float(value or 0))
    except ValueError:
        return 0
