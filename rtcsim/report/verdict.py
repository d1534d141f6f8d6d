"""The run's verdict for the report: its checks, and the ledger next to the documents.

Read from what a run leaves behind (``summary.json``, ``ledger.json``), so ``rtcsim report
RUN_ID`` shows the same verdict as the run did, and a range report can list every run inside.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from rtcsim.report.model import Bucket, CheckRow, LedgerRow, RunSummary, Verdict
from simulator.ledger import Ledger


def _text(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def check_rows(checks: list[dict[str, Any]]) -> tuple[CheckRow, ...]:
    return tuple(
        CheckRow(
            name=str(c.get("name", "")),
            ok=bool(c.get("ok")),
            expected=_text(c.get("expected")),
            found=_text(c.get("found")),
            detail=str(c.get("detail", "")),
        )
        for c in checks
    )


def ledger_rows(ledger: Ledger, by_type: tuple[Bucket, ...]) -> tuple[LedgerRow, ...]:
    """What the simulator did against the summary documents (only closed items are summarised,
    docs/documents.md §5, so an item that never closed shows as a difference)."""
    found = {b.label: b.count for b in by_type}
    connections = [c for p in ledger.participants.values() for c in p.connections if c.joined_ms]
    users = {(c.session_id, p.user_id) for p in ledger.participants.values() for c in p.connections}
    return (
        LedgerRow("sessions", len(ledger.sessions), found.get("sessionSummary", 0)),
        LedgerRow("users", len(users), found.get("userSummary", 0)),
        LedgerRow("connections", len(connections), found.get("connectionSummary", 0)),
        LedgerRow(
            "publishers",
            sum(len(c.publications) for c in connections),
            found.get("publisherSummary", 0),
        ),
        LedgerRow(
            "subscribers",
            sum(len(c.subscriptions) for c in connections),
            found.get("subscriberSummary", 0),
        ),
        LedgerRow(
            "recordings",
            sum(1 for r in ledger.recordings if r.status == "stopped" or r.stopped_ms),
            found.get("recordingSummary", 0),
        ),
    )


def run_verdict(folder: Path, by_type: tuple[Bucket, ...]) -> Verdict:
    """A run's verdict from ``summary.json`` and ``ledger.json`` (either may be missing)."""
    summary = _read(folder / "summary.json")
    ledger_path = folder / "ledger.json"
    ledger = Ledger.read(ledger_path) if ledger_path.is_file() else None
    return Verdict(
        passed=bool(summary.get("passed")) if summary else None,
        checks=check_rows(list(summary.get("checks", []))),
        ledger_rows=ledger_rows(ledger, by_type) if ledger else (),
    )


def runs_between(results_dir: Path, start_ms: int, end_ms: int) -> Verdict:
    """Every run in ``results_dir`` that overlaps the range, with its verdict."""
    runs: list[RunSummary] = []
    if results_dir.is_dir():
        for path in sorted(results_dir.glob("*/summary.json")):
            summary = _read(path)
            started = int(summary.get("started_ms") or 0)
            ended = int(summary.get("ended_ms") or started)
            if ended >= start_ms and started <= end_ms:
                runs.append(
                    RunSummary(
                        run_id=str(summary.get("run_id", path.parent.name)),
                        scenario=str(summary.get("scenario", "")),
                        passed=bool(summary.get("passed")),
                        started_ms=started,
                    )
                )
    return Verdict(passed=None, runs=tuple(runs))


def _read(path: Path) -> dict[str, Any]:
    try:
        value = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return value if isinstance(value, dict) else {}
