"""Past runs' folders: ``results/<run-id>/`` holds a finished run when it has a ``ledger.json``."""

from __future__ import annotations

from pathlib import Path

from simulator.settings import Settings

RECENT_RUNS = 10


class ResultsError(RuntimeError):
    """A past run or a session that cannot be read; the message says what and where."""


def run_folder(settings: Settings, run_id: str) -> Path:
    """``results/<run-id>/`` of a finished run, or an error that lists the recent runs."""
    folder = settings.results_dir / run_id
    if run_id and "/" not in run_id and (folder / "ledger.json").is_file():
        return folder
    recent = recent_runs(settings)
    listing = ", ".join(recent) if recent else "none"
    raise ResultsError(
        f"no run {run_id!r} in {settings.results_dir} (no ledger.json); recent runs: {listing}"
    )


def recent_runs(settings: Settings, limit: int = RECENT_RUNS) -> list[str]:
    """Run ids with a ledger, newest first (run ids start with their date and time)."""
    if not settings.results_dir.is_dir():
        return []
    runs = [p.name for p in settings.results_dir.iterdir() if (p / "ledger.json").is_file()]
    return sorted(runs, reverse=True)[:limit]
