"""The pytest plugin's per-session state and what its fixtures and collected scenario files
share: the effective options, the settings, running a scenario through the plugin's hook,
the stored baseline and thresholds. Its own module so that ``rtcsim.pytest_plugin`` (hooks,
fixtures) and ``rtcsim.pytest_scenarios`` (the collected items) both import it and not each
other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from rtcsim.pipeline.outcome import RunOutcome
    from rtcsim.results.compare import Threshold
    from rtcsim.services.stack import StackStatus
    from simulator.settings import Settings


@dataclass(frozen=True)
class PluginOptions:
    """The effective configuration: command line over ini over defaults, read once."""

    results_dir: Path | None
    start_services: bool
    keep_services: bool
    collect_scenarios: bool
    scenarios_dir: Path
    baseline: Path | None = None
    thresholds: Path | None = None

    @classmethod
    def from_config(cls, config: pytest.Config) -> PluginOptions:
        def pick(name: str) -> Any:
            value = config.getoption(name)
            return config.getini(name) if value is None else value

        results = pick("rtcsim_results_dir")
        no_services = config.getoption("rtcsim_no_services")
        scenarios_dir = Path(str(pick("rtcsim_scenarios_dir")))
        baseline, thresholds = pick("rtcsim_baseline"), pick("rtcsim_thresholds")
        return cls(
            results_dir=config.rootpath / results if results else None,
            start_services=False if no_services else bool(config.getini("rtcsim_start_services")),
            keep_services=bool(pick("rtcsim_keep_services")),
            collect_scenarios=bool(pick("rtcsim_collect_scenarios")),
            scenarios_dir=config.rootpath / scenarios_dir,
            baseline=config.rootpath / baseline if baseline else None,
            thresholds=config.rootpath / thresholds if thresholds else None,
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


def settings_for(config: pytest.Config) -> Settings:
    state = config.stash[STATE]
    if state.settings is None:
        from simulator.settings import Settings

        overrides = (
            {} if state.options.results_dir is None else {"results_dir": state.options.results_dir}
        )
        state.settings = Settings(**overrides)  # type: ignore[arg-type]
    return state.settings


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
            path=resolved, settings=settings_for(config), config=config
        )
    return outcomes[resolved]


def stored_baseline(config: pytest.Config, outcome: RunOutcome) -> Path | None:
    stored = config.stash[STATE].options.baseline
    if stored is None:
        return None
    from rtcsim.results.baselines import baseline_for

    return baseline_for(stored, outcome.scenario)


def thresholds(config: pytest.Config) -> dict[str, Threshold] | None:
    """The configured thresholds over the defaults (None: the defaults alone)."""
    path = config.stash[STATE].options.thresholds
    if path is None:
        return None
    from rtcsim.results.compare import DEFAULT_THRESHOLDS, parse_thresholds, read_thresholds_file

    return parse_thresholds(DEFAULT_THRESHOLDS) | read_thresholds_file(path)
