"""What a run comes to: its outcome (checks, validity, exit code) and ``summary.json``.

Exit codes: 0 all checks passed, 1 a check failed, 2 the run could not be set up, 3 the run is
invalid: the generator itself was saturated (``simulator.watch``), so neither a pass nor a
failure says anything about the media server.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from simulator.ledger import Ledger
from simulator.verify.checks import Check
from simulator.verify.spool import FILE_NAME as SPOOL_FILE
from simulator.verify.spool import read_spool
from simulator.verify.store_reader import Document
from simulator.verify.throughput import all_figures
from simulator.watch.verdict import INVALID_EXIT_CODE, invalid_message


class SetupError(RuntimeError):
    """The run could not start: services missing, bad scenario, unreachable collector."""


@dataclass
class RunOutcome:
    run_id: str
    scenario: str
    results_dir: Path
    ledger: Ledger
    read_back: list[Document] | int
    """The documents the run was verified against, or (what the pipeline passes: it never
    holds them together) how many were spooled to ``results/<run-id>/documents.ndjson.gz``."""
    checks: list[Check] = field(default_factory=list)
    invalid_reason: str | None = None
    """Set when a generator process was saturated: the run is INVALID whatever the checks say."""
    sections: dict[str, Any] = field(default_factory=dict)
    """More parts of ``summary.json`` (a capacity search's ``capacity``)."""
    host_samples: list[Document] = field(default_factory=list)
    """The run's ``monitoringStats`` (for the server's figures per stream)."""
    _loaded: list[Document] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def documents(self) -> list[Document]:
        """Every document the run was verified against, in timestamp order. Loaded from the
        run's spool on first use (tests, a person's look): mind the memory on a big run."""
        if isinstance(self.read_back, list):
            return self.read_back
        if self._loaded is None:
            self._loaded = list(read_spool(self.results_dir / SPOOL_FILE))
        return self._loaded

    @property
    def document_count(self) -> int:
        return len(self.read_back) if isinstance(self.read_back, list) else self.read_back

    @property
    def passed(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def throughput(self) -> dict[str, float | None]:
        # docs_per_second needs only how many; the server's figures, its samples.
        return all_figures(self.ledger, _ReadBack(self.document_count, self.host_samples))

    @property
    def valid(self) -> bool:
        return self.invalid_reason is None

    @property
    def exit_code(self) -> int:
        """3 invalid (generator saturated), 1 a check failed, 0 passed."""
        if not self.valid:
            return INVALID_EXIT_CODE
        return 0 if self.passed else 1


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


def summary_of(outcome: RunOutcome) -> dict[str, Any]:
    """What ``summary.json`` holds (and ``rtcsim run --json`` prints)."""
    return {
        "run_id": outcome.run_id,
        "scenario": outcome.scenario,
        "passed": outcome.passed,
        "valid": outcome.valid,
        "invalid_reason": outcome.invalid_reason,
        "exit_code": outcome.exit_code,
        "verdict": verdict_text(outcome),
        "results_dir": str(outcome.results_dir),
        "started_ms": outcome.ledger.started_ms,
        "ended_ms": outcome.ledger.ended_ms,
        "sessions": {room: s.session_id for room, s in outcome.ledger.sessions.items()},
        "media_server_lost": outcome.ledger.media_server_lost,
        "generator": [dataclasses.asdict(r) for r in outcome.ledger.generator],
        "checks": [check.as_dict() for check in outcome.checks],
        "documents": outcome.document_count,
        "throughput": outcome.throughput,
        **outcome.sections,
    }


def verdict_text(outcome: RunOutcome) -> str:
    """One line: ``55/55 checks passed`` (``(1 n/a)``: checks whose precondition did not hold,
    ``simulator.verify.verdict``), ``3 of 55 checks failed: a; b; c``, or why the run is
    invalid."""
    total = len(outcome.checks)
    failed = [check.name for check in outcome.checks if not check.ok]
    if not outcome.valid:
        return invalid_message(outcome.invalid_reason or "the generator was saturated")
    if not failed:
        exempt = sum(1 for check in outcome.checks if str(check.found).startswith("n/a"))
        return f"{total}/{total} checks passed" + (f" ({exempt} n/a)" if exempt else "")
    named = "; ".join(failed[:3]) + (f"; and {len(failed) - 3} more" if len(failed) > 3 else "")
    return f"{len(failed)} of {total} checks failed: {named}"


def write_summary(outcome: RunOutcome) -> None:
    (outcome.results_dir / "summary.json").write_bytes(
        orjson.dumps(summary_of(outcome), option=orjson.OPT_INDENT_2)
    )


@dataclass(frozen=True)
class _ReadBack:
    """What the figures need of the documents read back: how many, and the host's samples."""

    count: int
    host_samples: list[Document]

    def __len__(self) -> int:
        return self.count
