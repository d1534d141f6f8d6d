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
the services up, reused if running), ``rtcsim_run`` (``rtcsim_run("smoke") -> RunOutcome``) and
``rtcsim_outcome`` (the run of the test's ``@pytest.mark.rtcsim_scenario(path)``). Every way in
shares one run per scenario file per session. Assertions on an outcome: ``rtcsim.testing``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

if TYPE_CHECKING:
    from rtcsim.pipeline.outcome import RunOutcome
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


@dataclass(frozen=True)
class PluginOptions:
    """The effective configuration: command line over ini over defaults, read once."""

    results_dir: Path | None
    start_services: bool
    keep_services: bool
    collect_scenarios: bool
    scenarios_dir: Path

    @classmethod
    def from_config(cls, config: pytest.Config) -> PluginOptions:
        def pick(name: str) -> Any:
            value = config.getoption(name)
            return config.getini(name) if value is None else value

        results = pick("rtcsim_results_dir")
        no_services = config.getoption("rtcsim_no_services")
        scenarios_dir = Path(str(pick("rtcsim_scenarios_dir")))
        return cls(
            results_dir=config.rootpath / results if results else None,
            start_services=False if no_services else bool(config.getini("rtcsim_start_services")),
            keep_services=bool(pick("rtcsim_keep_services")),
            collect_scenarios=bool(pick("rtcsim_collect_scenarios")),
            scenarios_dir=config.rootpath / scenarios_dir,
        )


@dataclass
class PluginState:
    """Per pytest session: the options, the services once up, the cached runs."""

    options: PluginOptions
    stack: StackStatus | None = None
    started_stack: bool = False
    settings: Settings | None = None
    outcomes: dict[Path, RunOutcome] = field(default_factory=dict)


STATE = pytest.StashKey[PluginState]()


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    config.stash[STATE] = PluginState(PluginOptions.from_config(config))


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Two lines in pytest-asyncio's style: what the plugin will do, and where."""
    options = config.stash[STATE].options
    try:
        settings = _settings(config)
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
    ]


def _settings(config: pytest.Config) -> Settings:
    state = config.stash[STATE]
    if state.settings is None:
        from simulator.settings import Settings

        overrides = (
            {} if state.options.results_dir is None else {"results_dir": state.options.results_dir}
        )
        state.settings = Settings(**overrides)  # type: ignore[arg-type]
    return state.settings


# -- services --------------------------------------------------------------------------------
def ensure_stack(config: pytest.Config) -> StackStatus | None:
    """The services up once per session (reused when already running), unless disabled."""
    state = config.stash[STATE]
    if not state.options.start_services or state.stack is not None:
        return state.stack
    from rtcsim.services import stack
    from rtcsim.services.errors import ServiceError

    settings = _settings(config)
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

    stack.down(_settings(config))


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


def resolve_scenario(config: pytest.Config, path: str | Path) -> Path:
    """A scenario path as given, else under the rootdir, else under ``rtcsim_scenarios_dir``,
    else a scenario of rtcsim's library by name (``smoke``)."""
    candidate = Path(path)
    if candidate.is_absolute():
        return candidate
    for base in (config.rootpath, config.stash[STATE].options.scenarios_dir):
        if (base / candidate).exists():
            return (base / candidate).resolve()
    from rtcsim.library import resolve_scenario as in_library
    from simulator.scenario.problems import ScenarioError

    try:
        return in_library(str(path)).resolve()
    except ScenarioError:
        return (config.rootpath / candidate).resolve()  # the run reports it missing


def run_scenario(config: pytest.Config, path: str | Path) -> RunOutcome:
    """The outcome of the scenario file, run once per session whichever fixture or collected
    item asks first (``rtcsim_run``, ``rtcsim_outcome`` and a collected file share it)."""
    resolved = resolve_scenario(config, path)
    outcomes = config.stash[STATE].outcomes
    if resolved not in outcomes:
        outcomes[resolved] = config.hook.pytest_rtcsim_run_scenario(
            path=resolved, settings=_settings(config), config=config
        )
    return outcomes[resolved]


# -- fixtures ---------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def rtcsim_settings(pytestconfig: pytest.Config) -> Settings:
    """rtcsim's settings, with the plugin's results folder."""
    return _settings(pytestconfig)


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


# -- scenario files as tests -----------------------------------------------------------------
def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> ScenarioFile | None:
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
    file: ScenarioFile = ScenarioFile.from_parent(parent, path=file_path)
    return file


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[ScenarioItem]:
        yield ScenarioItem.from_parent(self, name=self.path.stem)


class ScenarioFailed(Exception):
    """A scenario ran and some of its checks failed."""

    def __init__(self, outcome: RunOutcome) -> None:
        super().__init__(outcome.run_id)
        self.outcome = outcome


class ScenarioInvalid(Exception):
    """The run's generator was saturated: neither a pass nor a server failure (exit code 3 on
    the command line); the test fails, saying so, because its numbers prove nothing."""

    def __init__(self, outcome: RunOutcome) -> None:
        super().__init__(outcome.run_id)
        self.outcome = outcome


class ScenarioItem(pytest.Item):
    """One scenario file; passes when the run's checks all pass."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_marker(pytest.mark.rtcsim_scenario(str(self.path)))

    def runtest(self) -> None:
        outcome = run_scenario(self.config, self.path)
        self.user_properties.append(("rtcsim_run_id", outcome.run_id))
        self.user_properties.append(("rtcsim_results_dir", str(outcome.results_dir)))
        if not outcome.valid:
            raise ScenarioInvalid(outcome)
        if not outcome.passed:
            raise ScenarioFailed(outcome)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str:
        error = excinfo.value
        if isinstance(error, ScenarioFailed):
            return failure_text(error.outcome)
        if isinstance(error, ScenarioInvalid):
            from simulator.watch.verdict import invalid_message

            reason = error.outcome.invalid_reason or "the generator was saturated"
            return f"{invalid_message(reason)}; results in {error.outcome.results_dir}"
        from rtcsim.pipeline.outcome import SetupError
        from simulator.scenario.loader import ScenarioError

        if isinstance(error, ScenarioError | SetupError):
            return f"{type(error).__name__}: {error}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"rtcsim scenario {self.name}"


def failure_text(outcome: RunOutcome) -> str:
    failed = [check for check in outcome.checks if not check.ok]
    lines = [
        f"scenario {outcome.scenario}, run {outcome.run_id}: "
        f"{len(failed)} of {len(outcome.checks)} checks failed"
    ]
    for check in failed:
        line = f"  - {check.name}: expected {check.expected}, found {check.found}"
        lines.append(line + (f" ({check.detail})" if check.detail else ""))
    lines.append(f"results in {outcome.results_dir}")
    return "\n".join(lines)
