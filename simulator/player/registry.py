"""The player's registries: which executor plays each kind of step, and which features set
themselves up on a run's context. Objects, built by whoever plays (``standard``), never module
globals filled by imports, so tests build them fresh and a new step kind is one ``add``.

Steps are keyed by their model class (``simulator.scenario.model``): an executor is typed for
its own step class, so it never has to check what it was given. Each kind also says what it
needs of the media server (``simulator.driver.capabilities``), which is how a scenario with a
step its server cannot do is refused before it runs (``refusals``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from simulator.driver.capabilities import Capability
from simulator.player.context import RunContext
from simulator.scenario.model import Scenario, StepBase

S = TypeVar("S", bound=StepBase)
FeatureSetup = Callable[[RunContext], None]
"""Installs a feature's state and hooks on a fresh context (recording, ...)."""


Needs = Iterable[Capability] | Callable[[Any], Iterable[Capability]]
"""What a step kind needs of the server: always the same, or depending on the step's fields
(a publish needs ``SIMULCAST`` only when it asks for simulcast)."""


@dataclass(frozen=True)
class _Entry:
    executor: Callable[[RunContext, Any, str], Awaitable[None]]
    needs: Callable[[Any], frozenset[Capability]]


class StepRegistry:
    """Step class -> its executor and the capabilities it needs of the media server."""

    def __init__(self) -> None:
        self._entries: dict[type[StepBase], _Entry] = {}

    def add(
        self,
        kind: type[S],
        executor: Callable[[RunContext, S, str], Awaitable[None]],
        *,
        needs: Iterable[Capability] | Callable[[S], Iterable[Capability]] = (),
    ) -> None:
        if kind in self._entries:
            raise ValueError(f"{kind.__name__} has an executor already")
        if callable(needs):
            of_step = needs
            self._entries[kind] = _Entry(executor, lambda step: frozenset(of_step(step)))
        else:
            fixed = frozenset(needs)
            self._entries[kind] = _Entry(executor, lambda _step: fixed)

    def kinds(self) -> list[type[StepBase]]:
        return list(self._entries)

    def needs(self, step: StepBase) -> frozenset[Capability]:
        """What ``step`` needs of the media server."""
        return self._entry(type(step)).needs(step)

    async def run(self, ctx: RunContext, step: StepBase, who: str) -> None:
        """Play ``step`` for ``who`` (a participant, or a room for room steps)."""
        await self._entry(type(step)).executor(ctx, step, who)

    def refusals(self, scenario: Scenario, capabilities: frozenset[Capability]) -> list[str]:
        """One line per timeline step the server cannot do (or no executor plays), naming the
        step's place in the timeline; empty when the scenario can run."""
        lines = []
        for index, problem in self.refused_steps(scenario, capabilities):
            step = scenario.timeline[index]
            do = getattr(step, "do", type(step).__name__)
            lines.append(f"timeline[{index}] ({do} at {step.at:g} s): {problem}")
        return lines

    def refused_steps(
        self,
        scenario: Scenario,
        capabilities: frozenset[Capability],
        server: str = "the media server",
    ) -> list[tuple[int, str]]:
        """(timeline index, why) for every step the server cannot do or no executor plays."""
        problems: list[tuple[int, str]] = []
        for index, step in enumerate(scenario.timeline):
            if type(step) not in self._entries:
                problems.append((index, f"no executor plays it; known: {self._known()}"))
                continue
            missing = sorted(self.needs(step) - capabilities)
            if missing:
                needed = ", ".join(missing)
                problems.append((index, f"needs {needed}, which {server} cannot do"))
        return problems

    def _entry(self, kind: type[StepBase]) -> _Entry:
        try:
            return self._entries[kind]
        except KeyError:
            raise KeyError(
                f"no executor for step {kind.__name__}; known: {self._known()}"
            ) from None

    def _known(self) -> str:
        return ", ".join(sorted(kind.__name__ for kind in self._entries))


@dataclass
class FeatureSetups:
    """The features a run installs on its context, in the order they were added."""

    setups: list[FeatureSetup] = field(default_factory=list)

    def add(self, setup: FeatureSetup) -> None:
        self.setups.append(setup)

    def install(self, ctx: RunContext) -> None:
        for setup in self.setups:
            setup(ctx)


@dataclass
class Repertoire:
    """What a player can play: its step executors and the features they rely on."""

    steps: StepRegistry = field(default_factory=StepRegistry)
    features: FeatureSetups = field(default_factory=FeatureSetups)
