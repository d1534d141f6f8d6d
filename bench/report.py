"""What ``python -m bench`` prints and writes: one table and one ``bench.json``, from results.

Pure functions of the results (and the clock passed in), so they are tested without running
anything.
"""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.table import Table

from bench.common import BenchResult


@dataclass(frozen=True)
class Outcome:
    """One benchmark's slot in the run: a result, or why there is none."""

    number: int
    name: str
    result: BenchResult | None = None
    error: str | None = None
    """A crash (traceback's last line): the run exits non-zero."""
    unavailable: str | None = None
    """Not run because its module is missing (not a failure)."""
    seconds: float = 0.0


def measured_text(result: BenchResult) -> str:
    return f"{result.measured:g} {result.unit}".strip()


def key_numbers(result: BenchResult) -> str:
    """The side-by-side numbers a reader needs next to the figure."""
    return result.note or ", ".join(f"{k}={v}" for k, v in list(result.detail.items())[:3])


def table(outcomes: list[Outcome]) -> Table:
    t = Table(title="rtcsim benchmarks (issues 6 and 16)")
    for column in ("#", "benchmark", "measured", "target", "met", "side by side"):
        t.add_column(column, overflow="fold")
    for o in outcomes:
        if o.result is not None:
            r = o.result
            met = "[green]yes[/]" if r.met else "[red bold]NO[/]"
            t.add_row(str(o.number), r.name, measured_text(r), r.target_text, met, key_numbers(r))
        elif o.error is not None:
            t.add_row(str(o.number), o.name, "-", "-", "[red]crashed[/]", o.error)
        else:
            t.add_row(str(o.number), o.name, "-", "-", "[yellow]n/a[/]", o.unavailable or "")
    return t


def to_json(
    outcomes: list[Outcome],
    started: datetime,
    wall_s: float,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "started": started.isoformat(timespec="seconds"),
        "wall_s": round(wall_s, 1),
        **(extra or {}),
        "host": {"machine": platform.machine(), "python": platform.python_version()},
        "benchmarks": [
            {
                "number": o.number,
                "name": o.result.name if o.result is not None else o.name,
                "status": _status(o),
                "seconds": round(o.seconds, 1),
                **(
                    {**asdict(o.result), "met": o.result.met, "target_text": o.result.target_text}
                    if o.result is not None
                    else {}
                ),
                **({"error": o.error} if o.error is not None else {}),
                **({"unavailable": o.unavailable} if o.unavailable is not None else {}),
            }
            for o in outcomes
        ],
    }


def _status(o: Outcome) -> str:
    if o.result is not None:
        return "met" if o.result.met else "missed"
    return "crashed" if o.error is not None else "not available"


def write_json(
    results_dir: Path,
    outcomes: list[Outcome],
    started: datetime,
    wall_s: float,
    extra: dict[str, Any] | None = None,
) -> Path:
    """``<results_dir>/bench-<YYYYmmdd-HHMMSS>/bench.json``; returns its path."""
    folder = results_dir / f"bench-{started:%Y%m%d-%H%M%S}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "bench.json"
    path.write_text(json.dumps(to_json(outcomes, started, wall_s, extra), indent=2) + "\n")
    return path


def exit_code(outcomes: list[Outcome]) -> int:
    """1 if a benchmark crashed; a missed target is a finding, not a failure (0)."""
    return 1 if any(o.error is not None for o in outcomes) else 0
