"""What every benchmark returns, so ``python -m bench`` can print one table and one JSON file."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Progress = Callable[[str], None]


class Milestone:
    """A point inside one benchmark that a benchmark run beside it waits for: once benchmark
    1's ramps on Janus are done (what follows them, its LiveKit ramp, is indicative), benchmark
    6 may start (``bench.__main__.BESIDE``). One benchmark reaches it; another waits."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def reach(self) -> None:
        self._event.set()

    def wait(self) -> None:
        self._event.wait()

    def reset(self) -> None:
        self._event.clear()


JANUS_RAMPS_DONE = Milestone()


@dataclass(frozen=True)
class BenchResult:
    """One figure against its target. ``measured`` is the ratio or value the issue asks for;
    ``detail`` holds the side-by-side numbers it was computed from, for the README."""

    number: int
    name: str
    measured: float
    target: float
    better: Literal["higher", "lower"]
    unit: str
    detail: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    checks: dict[str, bool] = field(default_factory=dict)
    """Further targets of the same benchmark (e.g. the ratio to pion), each met or not."""

    @property
    def met(self) -> bool:
        if self.better == "higher":
            primary = self.measured >= self.target
        else:
            primary = self.measured <= self.target
        return primary and all(self.checks.values())

    @property
    def target_text(self) -> str:
        sign = ">=" if self.better == "higher" else "<="
        return ", ".join([f"{sign} {self.target:g} {self.unit}".strip(), *self.checks])
