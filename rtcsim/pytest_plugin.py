"""rtcsim as a pytest plugin (entry point ``pytest11``: ``rtcsim``).

Everything the plugin adds is declared here: the options and ini keys (``pytest_addoption``),
the markers (``pytest_configure``), the effective configuration in the header
(``pytest_report_header``), the fixtures, the hook that runs a scenario, and the collection of
scenario files as tests. Loaded in every pytest session of an environment where rtcsim is
installed, it does nothing until asked: no service starts unless a fixture or a collected
scenario needs it, and scenario files are collected only when ``--rtcsim-scenarios`` or
``rtcsim_collect_scenarios = true`` says so. Heavy imports (aiortc, Elasticsearch) wait for a
run.

Fixtures (the README's pytest table): ``rtcsim_settings`` (session), ``rtcsim_stack`` (session:
the services up, reused if running), ``rtcsim_run`` (``rtcsim_run("smoke") -> RunOutcome``),
``rtcsim_outcome`` (the run of the test's ``@pytest.mark.rtcsim_scenario(path)``) and
``rtcsim_compare`` (``rtcsim_compare(outcome) -> Comparison`` against the
stored baseline, ``--rtcsim-baseline``; a collected scenario with a baseline also fails on a
regression). Every way in shares one run per scenario file per session. Assertions on an
outcome: ``rtcsim.testing``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from rtcsim.pytest_state import (
    STATE,
    PluginOptions,
    PluginState,
    run_scenario,
    settings_for,
    stored_baseline,
    thresholds,
)

if TYPE_CHECKING:
    from rtcsim.pipeline.outcome import RunOutcome
    from rtcsim.results.compare import Comparison
    from rtcsim.services.stack import StackStatus
    from simulator.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

SCENARIO_SUFFIXES = (".yaml", ".yml", ".py")
NOT_SCENARIOS = ("locust",)
"""Folders of the scenarios folder that hold locustfiles (they import locust, whose gevent
patches the whole process): never collected."""
MARKERS = {
    "rtcsim_scenario": (
        "rtcsim_scenario(path): the scenario file the rtcsim_outcome fixture runs "
        "(relative paths: the rootdir, then rtcsim_scenarios_dir)"
    ),
}


# -- options, ini keys, markers: the whole configuration surface, in one place -----------------
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("rtcsim", "rtcsim: scenarios against a real media server")
    group.addoption(
        "--rtcsim-results-dir",
        dest="rtcsim_results_dir",
        metavar="DIR",
        help="where runs write results/<run-id>/ (default: ini rtcsim_results_dir, then "
        "rtcsim's settings)",
    )
    group.addoption(
        "--rtcsim-no-services",
        dest="rtcsim_no_services",
        action="store_true",
        default=None,
        help="do not start Janus, Elasticsearch and the collector: expect them up",
    )
    group.addoption(
        "--rtcsim-keep-services",
        dest="rtcsim_keep_services",
        action="store_true",
        default=None,
        help="leave services this session started running at its end",
    )
    group.addoption(
        "--rtcsim-scenarios",
        dest="rtcsim_collect_scenarios",
        action="store_true",
        default=None,
        help="collect scenario files under rtcsim_scenarios_dir as tests (their verdict)",
    )
    group.addoption(
        "--rtcsim-scenarios-dir",
        dest="rtcsim_scenarios_dir",
        metavar="DIR",
        help="the folder of scenario files (default: ini rtcsim_scenarios_dir)",
    )
    group.addoption(
        "--rtcsim-baseline",
        dest="rtcsim_baseline",
        metavar="PATH",
        help="hold runs against a stored baseline: a run folder, or a folder of runs (the "
        "newest of the same scenario); a regression fails the scenario's test",
    )
    group.addoption(
        "--rtcsim-thresholds",
        dest="rtcsim_thresholds",
        metavar="FILE",
        help="the regression thresholds (YAML metric: limit; default: rtcsim compare's)",
    )
    parser.addini("rtcsim_baseline", "a stored baseline run or folder of runs", default="")
    parser.addini("rtcsim_thresholds", "a YAML file of regression thresholds", default="")
    parser.addini("rtcsim_results_dir", "where runs write results/<run-id>/", default="")
    parser.addini(
        "rtcsim_start_services",
        "start the services when a fixture needs them (false: expect them up)",
        type="bool",
        default=True,
    )
    parser.addini(
        "rtcsim_keep_services",
        "leave services this session started running at its end",
        type="bool",
        default=False,
    )
    parser.addini(
        "rtcsim_collect_scenarios",
        "collect scenario files under rtcsim_scenarios_dir as tests",
        type="bool",
        default=False,
    )
    parser.addini(
        "rtcsim_scenarios_dir",
        "the folder of scenario files, relative to the rootdir",
        default="scenarios",
    )


class RtcsimHooks:
    """The plugin's hook: how a scenario file becomes a ``RunOutcome`` (replaceable, e.g. by a
    stub in a conftest; the first implementation that returns something wins)."""

    @pytest.hookspec(firstresult=True)
    def pytest_rtcsim_run_scenario(
        self, path: Path, settings: Settings, config: pytest.Config
    ) -> RunOutcome | None:
        """Run the scenario file at ``path``; return its outcome."""


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(RtcsimHooks)


ASYNCIO_LOOP_SCOPE = "asyncio_default_fixture_loop_scope"
"""pytest-asyncio warns (PytestDeprecationWarning) in every session that leaves this unset, and
will default it to ``function``: a project that installs rtcsim saw the warning in each run
(issue 15)."""


@pytest.hookimpl(tryfirst=True)  # before pytest-asyncio's pytest_configure reads the setting
def pytest_configure(config: pytest.Config) -> None:
    _default_asyncio_loop_scope(config)
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    config.stash[STATE] = PluginState(PluginOptions.from_config(config))


def _default_asyncio_loop_scope(config: pytest.Config) -> None:
    """Give pytest-asyncio's fixture loop scope its coming default, ``function``, when the project
    sets none; a value set in the project's configuration or by ``-o`` is left as it is. pytest
    has no public way to default another plugin's setting: its cache of settings is it."""
    if not config.pluginmanager.hasplugin("asyncio"):
        return
    if config.getini(ASYNCIO_LOOP_SCOPE):
        return
    cache = getattr(config, "_inicache", None)
    if isinstance(cache, dict):
        cache[ASYNCIO_LOOP_SCOPE] = "function"


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Two lines in pytest-asyncio's style: what the plugin will do, and where."""
    options = config.stash[STATE].options
    try:
        settings = settings_for(config)
        where = (
            f"results_dir={settings.results_dir}, es={settings.es_url}/{settings.es_index}, "
            f"collector={settings.collector_api_url}, janus={settings.janus_url}"
        )
    except Exception as exc:  # the header must not break a test session; fixtures will say
        where = f"settings invalid: {type(exc).__name__}: {exc}"
    return [
        f"rtcsim: start_services={options.start_services}, "
        f"keep_services={options.keep_services}, "
        f"collect_scenarios={options.collect_scenarios}, scenarios_dir={options.scenarios_dir}",
        f"rtcsim: {where}",
    ] + (
        [f"rtcsim: baseline={options.baseline}, thresholds={options.thresholds or 'defaults'}"]
        if options.baseline is not None
        else []
    )


# -- services --------------------------------------------------------------------------------
def ensure_stack(config: pytest.Config) -> StackStatus | None:
    """The services up once per session (reused when already running), unless disabled."""
    state = config.stash[STATE]
    if not state.options.start_services or state.stack is not None:
        return state.stack
    from rtcsim.services import stack
    from rtcsim.services.errors import ServiceError

    settings = settings_for(config)
    state.started_stack = not stack.status(settings).healthy
    try:
        state.stack = stack.up(settings)
    except ServiceError as exc:
        pytest.fail(f"rtcsim services could not start: {exc}", pytrace=False)
    return state.stack


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is None or not state.started_stack or state.options.keep_services:
        return
    from rtcsim.services import stack

    stack.down(settings_for(config))


# -- running scenarios -----------------------------------------------------------------------
@pytest.hookimpl(trylast=True)
def pytest_rtcsim_run_scenario(path: Path, settings: Settings, config: pytest.Config) -> RunOutcome:
    """The real run: services up (unless disabled), then ``run_file`` (timeline or load)."""
    from rtcsim.pipeline.runs import run_file

    ensure_stack(config)
    return _run_sync(lambda: run_file(path, settings, progress=lambda message: log.info(message)))


def _run_sync(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``asyncio.run``, on a fresh thread when this one already runs a loop (an async test)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="rtcsim-run") as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


# -- fixtures ---------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def rtcsim_settings(pytestconfig: pytest.Config) -> Settings:
    """rtcsim's settings, with the plugin's results folder."""
    return settings_for(pytestconfig)


@pytest.fixture(scope="session")
def rtcsim_stack(pytestconfig: pytest.Config, rtcsim_settings: Settings) -> StackStatus | None:
    """The services up for this session (None with --rtcsim-no-services)."""
    return ensure_stack(pytestconfig)


@pytest.fixture
def rtcsim_run(pytestconfig: pytest.Config) -> Callable[[str | Path], RunOutcome]:
    """``rtcsim_run(path) -> RunOutcome``: play a scenario file and verify it (synchronous; a
    path already run in this session returns that run)."""

    def run(path: str | Path) -> RunOutcome:
        return run_scenario(pytestconfig, path)

    return run


@pytest.fixture
def rtcsim_outcome(request: pytest.FixtureRequest) -> RunOutcome:
    """The run of the test's ``rtcsim_scenario(path)`` marker, shared by tests of one path."""
    marker = request.node.get_closest_marker("rtcsim_scenario")
    if marker is None or not marker.args:
        # One line, not a traceback through the fixture machinery (pytest-asyncio's too).
        pytest.fail(
            f"{request.node.nodeid}: the rtcsim_outcome fixture needs the scenario to run: "
            '@pytest.mark.rtcsim_scenario("path/to/scenario.yaml") on the test, its class '
            "or its module (pytestmark)",
            pytrace=False,
        )
    return run_scenario(request.config, marker.args[0])


@pytest.fixture
def rtcsim_compare(pytestconfig: pytest.Config) -> Callable[..., Comparison]:
    """``rtcsim_compare(outcome, baseline=None) -> Comparison``: the run against ``baseline``
    (a run folder) or the stored one (``--rtcsim-baseline``); ``.passed`` is False on a
    regression, ``.markdown()`` says which."""

    def against(outcome: RunOutcome, baseline: Path | str | None = None) -> Comparison:
        found = Path(baseline) if baseline is not None else stored_baseline(pytestconfig, outcome)
        if found is None:
            raise pytest.UsageError(
                f"no baseline for scenario {outcome.scenario!r}: pass one, or --rtcsim-baseline"
            )
        from rtcsim.results.baselines import against_baseline

        return against_baseline(found, outcome.results_dir, thresholds(pytestconfig))

    return against


# -- scenario files as tests (their items: ``rtcsim.pytest_scenarios``) ---------------------
def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    options = parent.config.stash[STATE].options
    if not options.collect_scenarios or file_path.suffix not in SCENARIO_SUFFIXES:
        return None
    folder = options.scenarios_dir.resolve()
    if not file_path.resolve().is_relative_to(folder):
        return None
    inside = file_path.resolve().relative_to(folder)
    if any(part in NOT_SCENARIOS for part in inside.parts[:-1]):
        return None
    if file_path.suffix == ".py" and file_path.name.startswith(("test_", "conftest")):
        return None  # pytest's own
    from rtcsim.pytest_scenarios import ScenarioFile

    file: ScenarioFile = ScenarioFile.from_parent(parent, path=file_path)
    return file
