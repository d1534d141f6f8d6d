"""Everything a scenario file must pass before it plays, reported at once, each problem at the
line of the step or expectation at fault (``rtcsim validate``, and ``rtcsim run`` for every file
before the first plays).

On top of what the loader finds in the file itself (YAML, fields, names, the order of steps:
``simulator.scenario.loader``): the expectations' document types and fields against the
documents' schema (``simulator.verify.fields``), the steps the media server cannot do (its
driver's capabilities against what each step kind needs: ``simulator.player.registry``),
impairment the kernel here cannot apply at kernel depth (``simulator.impairment.capabilities``),
and a load scenario's locustfile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from simulator.driver.capabilities import Capability, ServerReport
from simulator.impairment import capabilities as kernel
from simulator.player.registry import Repertoire
from simulator.player.standard import standard_repertoire
from simulator.scenario.load import AnyScenario, LoadScenario
from simulator.scenario.loader import ScenarioFile, read_scenario_file
from simulator.scenario.model import Expectation, ImpairStep, Scenario
from simulator.scenario.problems import Problem
from simulator.verify.expectations import unreportable_expectations
from simulator.verify.fields import unknown_field, unknown_type

KernelProbe = Callable[[], kernel.Capabilities]


@dataclass(frozen=True)
class Server:
    """What the run's media server can do, known before anything connects."""

    name: str
    capabilities: frozenset[Capability]
    reports: frozenset[ServerReport] = frozenset(ServerReport)
    """What its own events say (LiveKit: no server-side ``webrtcStats`` or ``kms``)."""


def validate_file(
    path: Path,
    server: Server,
    *,
    repertoire: Repertoire | None = None,
    kernel_probe: KernelProbe = kernel.capabilities,
) -> AnyScenario:
    """The scenario of ``path``, or a ``ScenarioError`` listing every problem, file:line each."""
    file = read_scenario_file(path)
    more = run_problems(file, server, repertoire=repertoire, kernel_probe=kernel_probe)
    error = file.error(more)
    if error is not None:
        raise error
    return file.scenario


def run_problems(
    file: ScenarioFile,
    server: Server,
    *,
    repertoire: Repertoire | None = None,
    kernel_probe: KernelProbe = kernel.capabilities,
) -> list[Problem]:
    """What stands between a parsed scenario and its run, beyond the file itself."""
    scenario = file.scenario
    named = f"the {server.name} media server"
    problems = expectation_problems(scenario)
    for index, why in unreportable_expectations(scenario, server.reports, named):
        problems.append(Problem(("expect", index), why))
    if isinstance(scenario, LoadScenario):
        return problems + _locustfile_problems(scenario, file.source)
    if not isinstance(scenario, Scenario):
        return problems  # a capacity search: its rooms and steps are built, not scripted
    steps = (repertoire or standard_repertoire()).steps
    for index, why in steps.refused_steps(scenario, server.capabilities, named):
        problems.append(Problem(("timeline", index), why))
    return problems + kernel_problems(scenario, kernel_probe)


def expectation_problems(scenario: AnyScenario) -> list[Problem]:
    """An expectation's ``type``, ``field`` and ``filter`` keys must name what documents have:
    a typo selects no document, and ``count < 1`` then passes on nothing."""
    problems = []
    for index, expectation in enumerate(scenario.expect):
        if not isinstance(expectation, Expectation):
            continue
        wrong_type = unknown_type(expectation.type)
        if wrong_type is not None:
            problems.append(Problem(("expect", index, "type"), wrong_type))
            continue
        if expectation.field is not None:
            wrong = unknown_field(expectation.type, expectation.field)
            if wrong is not None:
                problems.append(Problem(("expect", index, "field"), wrong))
        for key in expectation.filter:
            wrong = unknown_field(expectation.type, key)
            if wrong is not None:
                problems.append(Problem(("expect", index, "filter", key), wrong))
    return problems


def kernel_problems(scenario: Scenario, probe: KernelProbe) -> list[Problem]:
    """``impair`` steps at kernel depth that this machine's kernel cannot apply. The probe
    (a throwaway namespace, cached) runs only when the scenario has such a step."""
    problems = []
    caps: kernel.Capabilities | None = None
    for index, step in enumerate(scenario.timeline):
        if not isinstance(step, ImpairStep) or step.depth != "kernel":
            continue
        caps = caps or probe()
        refusal = kernel.kernel_refusal(
            caps,
            delay=step.delay_ms > 0 or step.jitter_ms > 0,
            loss=step.loss_pct > 0,
            rate=step.rate_kbps is not None,
        )
        if refusal is not None:
            problems.append(Problem(("timeline", index, "depth"), refusal))
    return problems


def _locustfile_problems(scenario: LoadScenario, source: str) -> list[Problem]:
    locustfile = (Path(source).parent / scenario.load.locustfile).resolve()
    if locustfile.is_file():
        return []
    return [Problem(("load", "locustfile"), f"no file {locustfile}")]
