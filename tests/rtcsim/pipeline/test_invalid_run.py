"""A run whose generator was saturated is INVALID: exit code 3, ``valid: false`` in summary.json."""

from __future__ import annotations

import json
from pathlib import Path

import orjson

from rtcsim.pipeline.outcome import RunOutcome, write_summary
from simulator.ledger import Ledger
from simulator.verify.checks import Check
from simulator.watch import GeneratorReport, LagSummary, invalid_reason


def _outcome(tmp_path: Path, report: GeneratorReport) -> RunOutcome:
    ledger = Ledger(run_id="r1", scenario="s", seed=1, started_ms=1, generator=[report])
    outcome = RunOutcome("r1", "s", tmp_path, ledger, [], [Check("media flowed", True, 1, 1)])
    outcome.invalid_reason = invalid_reason(ledger.generator)
    return outcome


def _saturated() -> GeneratorReport:
    return GeneratorReport(
        "run-9",
        9,
        "h",
        samples=5,
        loop_lag_p95_ms=240.0,
        saturated=True,
        reasons=["media event loop lag p95 240 ms > 100 ms"],
        loops={"media": LagSummary(p50_ms=80.0, p95_ms=240.0, max_ms=400.0, wakeups=90)},
    )


def test_a_saturated_generator_makes_the_run_invalid_with_exit_code_3(tmp_path: Path) -> None:
    outcome = _outcome(tmp_path, _saturated())
    write_summary(outcome)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert outcome.passed  # the checks passed, and still they say nothing
    assert outcome.exit_code == 3
    assert summary["valid"] is False
    assert summary["exit_code"] == 3
    assert "media event loop lag p95 240 ms" in summary["invalid_reason"]
    assert summary["generator"][0]["loops"]["media"]["p95_ms"] == 240.0


def test_a_quiet_generator_leaves_the_verdict_to_the_checks(tmp_path: Path) -> None:
    outcome = _outcome(tmp_path, GeneratorReport("run-9", 9, "h", samples=5))
    outcome.checks.append(Check("cdr complete", False, 1, 0))
    write_summary(outcome)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["valid"] is True
    assert summary["invalid_reason"] is None
    assert outcome.exit_code == 1


def test_the_ledger_keeps_the_reports_and_old_ledgers_still_load(tmp_path: Path) -> None:
    ledger = Ledger(run_id="r1", scenario="s", seed=1, started_ms=1, generator=[_saturated()])
    ledger.write(tmp_path / "ledger.json")
    assert Ledger.read(tmp_path / "ledger.json").generator == [_saturated()]
    old = ledger.as_dict()
    del old["generator"]
    (tmp_path / "old.json").write_bytes(orjson.dumps(old))
    assert Ledger.read(tmp_path / "old.json").generator == []
