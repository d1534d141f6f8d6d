"""Running ``janus-pp-rec`` (Debian ``janus-tools``), the only way to read ``.mjr`` files.

The runner is passed in, so tests use a fake instead of the binary.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass

PPREC = "janus-pp-rec"
TIMEOUT_S = 300.0


class PpRecError(RuntimeError):
    """``janus-pp-rec`` is missing, failed, or produced nothing usable."""


@dataclass(frozen=True)
class CommandResult:
    returncode: int
    stdout: str
    stderr: str

    def tail(self, lines: int = 3) -> str:
        text = (self.stderr or self.stdout).strip().splitlines()
        return " | ".join(text[-lines:]) or "no output"


CommandRunner = Callable[[Sequence[str]], CommandResult]


def run_pprec(args: Sequence[str]) -> CommandResult:
    binary = shutil.which(PPREC)
    if binary is None:
        raise PpRecError(f"{PPREC} not found; install Debian's janus-tools (make setup)")
    done = subprocess.run(
        [binary, "-o", *args], capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    )
    return CommandResult(done.returncode, done.stdout, done.stderr)
