"""The rtcsim pytest plugin, end to end in throwaway pytest sessions (``pytester``).

The plugin is loaded through its ``pytest11`` entry point, as in any environment where rtcsim is
installed. Scenario runs are stubbed through the plugin's own hook,
``pytest_rtcsim_run_scenario``; the services through ``rtcsim.services.stack``.
"""

from __future__ import annotations

import asyncio

import pytest

from rtcsim.pytest_plugin import _run_sync

pytest_plugins = ["pytester"]

SCENARIO = """\
name: one
rooms: [{name: one}]
participants: [{name: alice, room: one}]
timeline: [{at: 0.0, do: join, who: alice}]
"""

# A conftest for the inner sessions: a scenario runner that records what it was asked and
# returns an outcome whose checks pass unless the scenario's name says "failing"; and a stack
# whose ``up`` only counts.
STUBS = """\
from pathlib import Path

import pytest

from rtcsim.pipeline.outcome import RunOutcome
from simulator.ledger import Ledger
from rtcsim.services import stack
from simulator.verify.checks import Check

RUNS = []
UPS = []


def pytest_rtcsim_run_scenario(path, settings, config):
    RUNS.append((path, settings.results_dir))
    ok = "failing" not in path.stem
    checks = [
        Check("bob received video frames from alice", True, ">= 1", 357),
        Check("cdr participantJoined documents", ok, 3, 3 if ok else 2),
    ]
    ledger = Ledger(run_id="stub-run", scenario=path.stem, seed=0, started_ms=0)
    outcome = RunOutcome(
        "stub-run", path.stem, settings.results_dir / "stub-run", ledger, [], checks
    )
    if "saturated" in path.stem:
        outcome.invalid_reason = "loop media lag p95 240 ms > 100 ms"
    return outcome


@pytest.fixture(scope="session", autouse=True)
def _counted_stack():
    patch = pytest.MonkeyPatch()
    patch.setattr(stack, "status", lambda settings: stack.StackStatus([]))
    patch.setattr(stack, "up", lambda settings, **kw: UPS.append(settings) or stack.StackStatus([]))
    yield
    patch.undo()
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # A project as a user has it: no pytest-asyncio setting of its own (the plugin gives the
    # loop scope its default), and pytest-asyncio's deprecations would fail the run.
    return pytester.runpytest("-W", "error::pytest.PytestDeprecationWarning", *args)


@pytest.fixture
def stubbed(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(STUBS)
    return pytester


def test_the_header_shows_the_effective_configuration(pytester: pytest.Pytester) -> None:
    result = run(pytester)
    result.stdout.fnmatch_lines(
        [
            "rtcsim: start_services=True, keep_services=False, collect_scenarios=False, "
            f"scenarios_dir={pytester.path}/scenarios",
            "rtcsim: results_dir=*, es=http://*/openvidu, collector=http://*, janus=http://*",
        ]
    )


def test_options_override_ini_keys_in_the_header(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        """
        [pytest]
        rtcsim_scenarios_dir = plays
        rtcsim_collect_scenarios = true
        rtcsim_keep_services = true
        rtcsim_results_dir = from-ini
        """
    )
    result = run(pytester, "--rtcsim-no-services", "--rtcsim-results-dir", "out")
    result.stdout.fnmatch_lines(
        [
            "rtcsim: start_services=False, keep_services=True, collect_scenarios=True, "
            f"scenarios_dir={pytester.path}/plays",
            f"rtcsim: results_dir={pytester.path}/out, *",
        ]
    )


def test_options_and_ini_keys_are_registered_in_the_help(pytester: pytest.Pytester) -> None:
    result = run(pytester, "--help")
    result.stdout.fnmatch_lines_random(
        [
            "rtcsim: scenarios against a real media server:",
            "*--rtcsim-results-dir=DIR*",
            "*--rtcsim-no-services*",
            "*--rtcsim-keep-services*",
            "*--rtcsim-scenarios *",
            "*--rtcsim-scenarios-dir=DIR*",
            "*rtcsim_results_dir (string)*",
            "*rtcsim_start_services (bool)*",
            "*rtcsim_keep_services (bool)*",
            "*rtcsim_collect_scenarios (bool)*",
            "*rtcsim_scenarios_dir (string)*",
        ]
    )


def test_the_scenario_marker_is_registered_for_strict_markers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.rtcsim_scenario("scenarios/one.yaml")
        def test_marked():
            pass
        """
    )
    result = run(pytester, "--strict-markers")
    result.assert_outcomes(passed=1)
    run(pytester, "--markers").stdout.fnmatch_lines(["@pytest.mark.rtcsim_scenario: *"])


def test_the_fixtures_are_provided(pytester: pytest.Pytester) -> None:
    result = run(pytester, "--fixtures")
    result.stdout.fnmatch_lines_random(
        [
            "rtcsim_settings [[]session scope[]]*",
            "rtcsim_stack [[]session scope[]]*",
            "rtcsim_run*",
            "rtcsim_outcome*",
        ]
    )


def test_rtcsim_run_plays_a_scenario_file_through_the_hook(stubbed: pytest.Pytester) -> None:
    stubbed.mkdir("scenarios").joinpath("one.yaml").write_text(SCENARIO)
    stubbed.makepyfile(
        """
        import conftest

        def test_run(rtcsim_run, rtcsim_settings, pytestconfig):
            outcome = rtcsim_run("scenarios/one.yaml")
            assert outcome.passed and outcome.run_id == "stub-run"
            path, results_dir = conftest.RUNS[-1]
            assert path == pytestconfig.rootpath / "scenarios" / "one.yaml"
            assert results_dir == pytestconfig.rootpath / "out"

        def test_relative_to_the_scenarios_dir(rtcsim_run, pytestconfig):
            rtcsim_run("one.yaml")
            assert conftest.RUNS[-1][0] == pytestconfig.rootpath / "scenarios" / "one.yaml"
        """
    )
    run(stubbed, "--rtcsim-results-dir", "out").assert_outcomes(passed=2)


def test_tests_that_use_no_fixture_start_no_service(stubbed: pytest.Pytester) -> None:
    stubbed.makepyfile(
        """
        import conftest

        def test_plain():
            pass

        def test_after():
            assert conftest.UPS == []
        """
    )
    run(stubbed).assert_outcomes(passed=2)


def test_the_stack_fixture_starts_the_services_once_unless_told_not_to(
    stubbed: pytest.Pytester,
) -> None:
    stubbed.makepyfile(
        """
        import conftest

        def test_one(rtcsim_stack):
            assert len(conftest.UPS) == int(conftest.EXPECTED_UPS)

        def test_two(rtcsim_stack):
            assert len(conftest.UPS) == int(conftest.EXPECTED_UPS)
        """
    )
    stubbed.makeconftest(STUBS + "EXPECTED_UPS = 1\n")
    run(stubbed).assert_outcomes(passed=2)
    stubbed.makeconftest(STUBS + "EXPECTED_UPS = 0\n")
    run(stubbed, "--rtcsim-no-services").assert_outcomes(passed=2)


def test_scenario_files_are_not_collected_by_default(stubbed: pytest.Pytester) -> None:
    stubbed.mkdir("scenarios").joinpath("one.yaml").write_text(SCENARIO)
    result = run(stubbed, "scenarios")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_scenario_files_are_tests_when_asked_and_pass_with_their_run(
    stubbed: pytest.Pytester,
) -> None:
    stubbed.mkdir("scenarios").joinpath("one.yaml").write_text(SCENARIO)
    stubbed.mkdir("elsewhere").joinpath("two.yaml").write_text(SCENARIO)
    result = run(stubbed, "--rtcsim-scenarios", "scenarios", "elsewhere", "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["scenarios/one.yaml::one PASSED*"])


def test_a_scenario_with_failed_checks_fails_listing_them(stubbed: pytest.Pytester) -> None:
    stubbed.makeini("[pytest]\nrtcsim_collect_scenarios = true\n")
    stubbed.mkdir("scenarios").joinpath("failing.yaml").write_text(SCENARIO)
    result = run(stubbed, "scenarios")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "scenario failing, run stub-run: 1 of 2 checks failed",
            "  - cdr participantJoined documents: expected 3, found 2",
            "results in */stub-run",
        ]
    )


def test_a_run_whose_generator_was_saturated_fails_as_invalid_not_as_a_server_failure(
    stubbed: pytest.Pytester,
) -> None:
    stubbed.makeini("[pytest]\nrtcsim_collect_scenarios = true\n")
    stubbed.mkdir("scenarios").joinpath("saturated.yaml").write_text(SCENARIO)
    result = run(stubbed, "scenarios")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["INVALID RUN: the generator was saturated (loop media lag p95 240 ms > 100 ms)*"]
    )
    assert "checks failed" not in result.stdout.str()


def test_tests_marked_with_one_scenario_share_one_run(stubbed: pytest.Pytester) -> None:
    stubbed.mkdir("scenarios").joinpath("one.yaml").write_text(SCENARIO)
    stubbed.makepyfile(
        """
        import pytest
        import conftest

        pytestmark = pytest.mark.rtcsim_scenario("scenarios/one.yaml")

        def test_first(rtcsim_outcome):
            assert rtcsim_outcome.scenario == "one"

        def test_second(rtcsim_outcome):
            assert len(conftest.RUNS) == 1
        """
    )
    run(stubbed).assert_outcomes(passed=2)


def test_python_scenarios_are_collected_and_locustfiles_are_not(stubbed: pytest.Pytester) -> None:
    folder = stubbed.mkdir("scenarios")
    folder.joinpath("coded.py").write_text("SCENARIO = {'name': 'coded'}\n")
    folder.joinpath("locust").mkdir()
    folder.joinpath("locust", "users.py").write_text("raise SystemExit('never imported')\n")
    result = run(stubbed, "--rtcsim-scenarios", "scenarios", "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["scenarios/coded.py::coded PASSED*"])


def test_rtcsim_run_and_rtcsim_outcome_share_one_run_of_a_file(stubbed: pytest.Pytester) -> None:
    stubbed.mkdir("scenarios").joinpath("one.yaml").write_text(SCENARIO)
    stubbed.makepyfile(
        """
        import pytest
        import conftest

        @pytest.mark.rtcsim_scenario("scenarios/one.yaml")
        def test_marked(rtcsim_outcome, rtcsim_run):
            assert rtcsim_run("scenarios/one.yaml") is rtcsim_outcome
            assert rtcsim_run("one.yaml") is rtcsim_outcome
            assert len(conftest.RUNS) == 1
        """
    )
    run(stubbed).assert_outcomes(passed=1)


def test_the_outcome_fixture_without_its_marker_fails_in_one_line(stubbed: pytest.Pytester) -> None:
    stubbed.makepyfile(
        """
        async def test_unmarked(rtcsim_outcome):
            pass
        """
    )
    result = run(stubbed)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*the rtcsim_outcome fixture needs the scenario to run: @pytest.mark.rtcsim_scenario(*"]
    )
    text = result.stdout.str()
    assert "pytest_asyncio" not in text
    assert "Traceback" not in text


async def test_a_run_from_inside_a_running_event_loop_uses_a_fresh_thread() -> None:
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    assert _run_sync(answer) == 42


def test_a_project_without_a_loop_scope_gets_no_pytest_asyncio_deprecation(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile("def test_nothing():\n    assert True\n")
    result = run(pytester)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*asyncio_default_fixture_loop_scope=function*"])
    assert "PytestDeprecationWarning" not in result.stdout.str()


def test_a_projects_own_loop_scope_is_kept(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = module\n")
    pytester.makepyfile("def test_nothing():\n    assert True\n")
    result = run(pytester)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*asyncio_default_fixture_loop_scope=module*"])
