"""Scenario files collected as tests (``pytest --rtcsim-scenarios``): one item per file, whose
verdict is the run's checks, and, with a stored baseline, no regression against it. The plugin
(``rtcsim.pytest_plugin``) collects them; this module holds what they are (and shares what it
runs with the fixtures through ``rtcsim.pytest_state``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from rtcsim.pytest_state import run_scenario, stored_baseline, thresholds

if TYPE_CHECKING:
    from rtcsim.pipeline.outcome import RunOutcome


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


class ScenarioRegressed(Exception):
    """The run passed its checks but regressed against the stored baseline."""

    def __init__(self, table: str) -> None:
        super().__init__(table)


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
        baseline = stored_baseline(self.config, outcome)
        if baseline is not None:
            from rtcsim.results.baselines import against_baseline

            comparison = against_baseline(baseline, outcome.results_dir, thresholds(self.config))
            self.user_properties.append(("rtcsim_baseline", comparison.baseline.run_id))
            if not comparison.passed:
                raise ScenarioRegressed(comparison.markdown())

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str:
        error = excinfo.value
        if isinstance(error, ScenarioFailed):
            return failure_text(error.outcome)
        if isinstance(error, ScenarioRegressed):
            return str(error)
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
