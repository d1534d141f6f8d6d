"""The three-valued verdict's one decision: was any generator saturated?

``rtcsim run`` and ``rtcsim load`` both call it: a saturated generator makes the run INVALID
(exit code 3), which is neither a pass nor a media-server failure.
"""

from __future__ import annotations

from collections.abc import Iterable

from simulator.ledger import GeneratorReport

INVALID_EXIT_CODE = 3


def invalid_reason(reports: Iterable[GeneratorReport]) -> str | None:
    """Why the run is invalid (every saturated process and its reasons), or None if it is not."""
    parts = [
        f"{report.process} (pid {report.pid}): {'; '.join(report.reasons) or 'saturated'}"
        for report in reports
        if report.saturated
    ]
    return " | ".join(parts) if parts else None


def invalid_message(reason: str) -> str:
    """What the console says about an invalid run."""
    return (
        f"INVALID RUN: the generator was saturated ({reason}): "
        "these results say nothing about the media server"
    )
