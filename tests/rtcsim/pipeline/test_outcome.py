"""The one-line verdict a run ends with (``rtcsim run``, ``check``, ``--json``'s ``verdict``)."""

from __future__ import annotations

from pathlib import Path

from rtcsim.pipeline.outcome import RunOutcome, verdict_text
from simulator.ledger import Ledger
from simulator.verify.checks import Check


def _outcome(*checks: Check) -> RunOutcome:
    ledger = Ledger(run_id="r1", scenario="s", seed=1, started_ms=0)
    return RunOutcome("r1", "s", Path("results/r1"), ledger, 0, list(checks))


def test_a_passed_run_counts_its_checks_and_those_that_did_not_apply() -> None:
    assert verdict_text(_outcome(Check("a", True, 1, 1))) == "1/1 checks passed"
    exempt = Check("kms documents present", True, ">= 1", "n/a: no peer connection")
    assert verdict_text(_outcome(Check("a", True, 1, 1), exempt)) == "2/2 checks passed (1 n/a)"


def test_a_failed_run_names_its_first_failed_checks() -> None:
    checks = [Check(f"c{i}", False, 1, 0) for i in range(5)]
    assert verdict_text(_outcome(Check("ok", True, 1, 1), *checks)) == (
        "5 of 6 checks failed: c0; c1; c2; and 2 more"
    )
