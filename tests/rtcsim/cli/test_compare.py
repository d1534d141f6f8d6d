"""``rtcsim compare``: exit 0 without a regression, 1 with one, 2 on what it cannot read; the
comparison as JSON and Markdown for CI."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import Result
from typer.testing import CliRunner

from rtcsim.cli import app
from tests.rtcsim.results.test_compare import CLEAN, write_run


def invoke(args: list[str], results: Path) -> Result:
    return CliRunner().invoke(app, args, env={"RTCSIM_RESULTS_DIR": str(results)})


def test_compare_exits_1_on_a_regression_and_writes_json_and_markdown(tmp_path: Path) -> None:
    base = write_run(tmp_path / "base", CLEAN)
    (base / "ledger.json").write_text("{}")  # a finished run: found by its id
    worse = write_run(tmp_path / "worse", CLEAN | {"subscriber_loss_pct": 5.0})
    out_json, out_md = tmp_path / "c.json", tmp_path / "c.md"
    args = ["compare", "base", str(worse), "--json", str(out_json), "--markdown", str(out_md)]
    result = invoke(args, tmp_path)
    assert result.exit_code == 1, result.output
    assert "REGRESSION in subscriber_loss_pct" in result.output
    assert json.loads(out_json.read_text())["regressions"] == ["subscriber_loss_pct"]
    assert "**regression**" in out_md.read_text()


def test_compare_exits_0_for_two_clean_runs_and_a_looser_fail_on_can_pass_a_worse_one(
    tmp_path: Path,
) -> None:
    base = write_run(tmp_path / "base", CLEAN)
    twin = write_run(tmp_path / "twin", CLEAN | {"latency_p95_ms": 40.0})
    worse = write_run(tmp_path / "worse", CLEAN | {"subscriber_loss_pct": 5.0})
    assert invoke(["compare", str(base), str(twin)], tmp_path).exit_code == 0
    loose = ["compare", str(base), str(worse), "--fail-on", "subscriber_loss_pct=10"]
    assert invoke(loose, tmp_path).exit_code == 0
    only = ["compare", str(base), str(worse), "--no-defaults", "--fail-on", "latency_p95_ms=1%"]
    assert invoke(only, tmp_path).exit_code == 0


def test_compare_exits_2_on_an_unknown_run_or_a_bad_threshold(tmp_path: Path) -> None:
    base = write_run(tmp_path / "base", CLEAN)
    unknown = invoke(["compare", str(base), "no-such-run"], tmp_path)
    assert unknown.exit_code == 2
    assert "no run 'no-such-run'" in unknown.output
    bad = invoke(["compare", str(base), str(base), "--fail-on", "loss=5"], tmp_path)
    assert bad.exit_code == 2
    assert "unknown metric 'loss'" in bad.output
