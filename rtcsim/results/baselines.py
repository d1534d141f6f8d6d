"""Stored baselines: the run a new run of the same scenario is held against (``rtcsim compare``
in a test session; the pytest plugin's ``--rtcsim-baseline``).

A baseline is a run folder (with its ``summary.json``), or a folder of run folders, where the
newest run of the scenario is its baseline (run ids begin with their date and time, so the
newest sorts last). CI keeps one such folder as an artefact of its last good build.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from rtcsim.results.compare import Comparison, Threshold, compare, read_run


def baseline_for(stored: Path, scenario: str) -> Path | None:
    """The run folder to compare a run of ``scenario`` with; None when there is none."""
    if (stored / "summary.json").is_file():
        return stored
    if not stored.is_dir():
        return None
    runs = []
    for folder in stored.iterdir():
        try:
            summary = orjson.loads((folder / "summary.json").read_bytes())
        except (OSError, orjson.JSONDecodeError):
            continue
        if summary.get("scenario") == scenario:
            runs.append(folder)
    return max(runs, key=lambda folder: folder.name, default=None)


def against_baseline(
    baseline: Path, candidate: Path, thresholds: dict[str, Threshold] | None = None
) -> Comparison:
    """The candidate run's folder compared with the baseline's."""
    return compare(read_run(baseline), read_run(candidate), thresholds)
