"""What is wrong with a scenario, and where: a problem names a path into the scenario
(``("timeline", 3)``, ``("expect", 0, "field")``) that the loader turns into the file's line.

Every check of a scenario file returns problems instead of raising at the first, so a user sees
everything wrong with a file at once, each at the line of the step or expectation at fault.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

PathPart = str | int


class ScenarioError(ValueError):
    """A scenario file that cannot run; the message says where and what (one line each)."""


@dataclass(frozen=True)
class Problem:
    path: tuple[PathPart, ...]
    message: str

    @property
    def where(self) -> str:
        """``timeline[3]``, ``expect[0].field``, or ``(top)``."""
        return format_path(self.path)


def format_path(path: Sequence[PathPart]) -> str:
    text = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in path).replace(".[", "[")
    return text or "(top)"
