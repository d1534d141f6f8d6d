"""The plugin holds runs against a stored baseline (``--rtcsim-baseline``): a collected
scenario that regressed fails with the comparison's table; ``rtcsim_compare`` does the same
for any outcome. Runs are stubbed through the plugin's hook (``test_pytest_plugin``)."""

from __future__ import annotations

import json

import pytest

from tests.rtcsim.test_pytest_plugin import run

pytest_plugins = ["pytester"]

SCENARIO = """\
name: {name}
rooms: [{{name: one}}]
participants: [{{name: alice, room: one}}]
timeline: [{{at: 0.0, do: join, who: alice}}]
"""

# Each stubbed run writes its summary.json; a scenario named "lossy" lost 5 % on the way.
STUBS = """\
import json

from rtcsim.pipeline.outcome import RunOutcome
from simulator.ledger import Ledger
from simulator.verify.checks import Check


def pytest_rtcsim_run_scenario(path, settings, config):
    folder = settings.results_dir / f"run-{path.stem}"
    folder.mkdir(parents=True, exist_ok=True)
    loss = 5.0 if path.stem == "lossy" else 0.0
    summary = {"run_id": folder.name, "scenario": path.stem,
               "throughput": {"subscriber_loss_pct": loss, "latency_p95_ms": 20.0}}
    (folder / "summary.json").write_text(json.dumps(summary))
    ledger = Ledger(run_id=folder.name, scenario=path.stem, seed=0, started_ms=0)
    return RunOutcome(folder.name, path.stem, folder, ledger, [], [Check("ok", True, 1, 1)])
"""


def _store(pytester: pytest.Pytester, scenario: str, run_id: str, loss: float) -> None:
    folder = pytester.path / "baselines" / run_id
    folder.mkdir(parents=True)
    summary = {"run_id": run_id, "scenario": scenario, "throughput": {"subscriber_loss_pct": loss}}
    (folder / "summary.json").write_text(json.dumps(summary))


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(STUBS)
    scenarios = pytester.mkdir("scenarios")
    for name in ("clean", "lossy", "new"):
        scenarios.joinpath(f"{name}.yaml").write_text(SCENARIO.format(name=name))
    _store(pytester, "clean", "20261201-100000-aaaa", 0.0)
    _store(pytester, "lossy", "20261130-100000-bbbb", 9.0)  # an older, worse one: not it
    _store(pytester, "lossy", "20261201-100000-cccc", 0.0)  # the newest: the baseline
    return pytester


def test_a_collected_scenario_that_regressed_against_its_baseline_fails(
    project: pytest.Pytester,
) -> None:
    args = ("--rtcsim-scenarios", "--rtcsim-no-services", "--rtcsim-results-dir", "out")
    result = run(project, *args, "--rtcsim-baseline", "baselines", "scenarios")
    result.assert_outcomes(passed=2, failed=1)  # clean holds, new has no baseline, lossy fails
    result.stdout.fnmatch_lines(
        [
            "rtcsim: baseline=*baselines, thresholds=defaults",
            "*run-lossy against 20261201-100000-cccc: 1 regression(s)",
            "| subscriber loss | 0 % | 5 % | +5 | 1 | **regression** |",
        ]
    )


def test_a_threshold_file_can_allow_what_the_defaults_call_a_regression(
    project: pytest.Pytester,
) -> None:
    project.path.joinpath("loose.yaml").write_text("thresholds: {subscriber_loss_pct: 10}\n")
    args = ("--rtcsim-scenarios", "--rtcsim-no-services", "--rtcsim-results-dir", "out")
    result = run(
        project, *args, "--rtcsim-baseline", "baselines", "--rtcsim-thresholds", "loose.yaml"
    )
    result.assert_outcomes(passed=3)


def test_the_compare_fixture_holds_an_outcome_against_a_baseline(project: pytest.Pytester) -> None:
    project.makepyfile(
        """
        import pytest

        def test_lossy(rtcsim_run, rtcsim_compare):
            comparison = rtcsim_compare(rtcsim_run("scenarios/lossy.yaml"))
            assert [row.metric for row in comparison.regressions] == ["subscriber_loss_pct"]

        def test_explicit(rtcsim_run, rtcsim_compare, pytestconfig):
            baseline = pytestconfig.rootpath / "baselines" / "20261201-100000-aaaa"
            assert rtcsim_compare(rtcsim_run("scenarios/clean.yaml"), baseline).passed

        def test_none(rtcsim_run, rtcsim_compare):
            with pytest.raises(pytest.UsageError, match="no baseline for scenario 'new'"):
                rtcsim_compare(rtcsim_run("scenarios/new.yaml"))
        """
    )
    result = run(project, "--rtcsim-no-services", "--rtcsim-results-dir", "out",
                 "--rtcsim-baseline", "baselines")  # fmt: skip
    result.assert_outcomes(passed=3)
