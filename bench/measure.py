"""One measured window of a ramp: a snapshot of every receiving and publishing process at its
start and its end, and what else held the machine meanwhile (``MachineMeter``: the media
server's cores and the machine's busy fraction, from ``/proc``), so a knee set by the machine
rather than the process shows as such. The arithmetic of a window is ``bench.ramp``'s.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.publishers import Publishers
from bench.ramp import PublisherWindow, Window, publish_window, receive_window, summarize
from bench.workers import Worker
from rtcsim.services import janus, livekit
from simulator.settings import Settings


class MachineMeter:
    """The media server's CPU and the machine's busy fraction over a window (``/proc``)."""

    def __init__(self, settings: Settings, server: str = "janus") -> None:
        self.server = server
        self.janus_pid = (livekit if server == "livekit" else janus).pid(settings)

    def read(self) -> tuple[float, float, float, float]:
        """(monotonic s, the server's CPU s, machine busy jiffies, machine total jiffies)."""
        janus_s = 0.0
        if self.janus_pid is not None:
            try:
                fields = Path(f"/proc/{self.janus_pid}/stat").read_text().rsplit(")", 1)[1].split()
                janus_s = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            except (OSError, IndexError, ValueError):
                pass
        cpu = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = cpu[3] + (cpu[4] if len(cpu) > 4 else 0)
        return time.monotonic(), janus_s, float(sum(cpu) - idle), float(sum(cpu))

    def window(self, before: tuple[float, ...], after: tuple[float, ...]) -> dict[str, float]:
        """``janus_cores`` is the server's cores whichever it is (the key bench.json always
        had); ``server`` says which."""
        seconds = after[0] - before[0]
        total = after[3] - before[3]
        return {
            "janus_cores": round((after[1] - before[1]) / seconds, 3) if seconds > 0 else 0.0,
            "machine_busy_pct": round(100 * (after[2] - before[2]) / total, 1) if total else 0.0,
        }


@dataclass
class Measured:
    receivers: list[Window]
    publishers: list[PublisherWindow]
    machine: dict[str, float]

    def degraded(self) -> list[str]:
        why = [f"receiver: {r}" for w in self.receivers for r in w.degraded()]
        return why + [f"publishers: {r}" for p in self.publishers for r in p.degraded()]

    def brief(self) -> dict[str, Any]:
        return {
            **summarize(self.receivers),
            "receivers": [w.brief() for w in self.receivers],
            "publishers": [p.brief() for p in self.publishers],
            **self.machine,
            "degraded": self.degraded(),
        }


def measure(
    receivers: Sequence[Worker], publishers: Publishers, meter: MachineMeter, seconds: float
) -> Measured:
    """One window over every receiving and publishing process at once."""
    everyone = [*receivers, *publishers.workers]
    for worker in everyone:
        worker.send(cmd="snapshot")
    before = [worker.read("snapshot", 60) for worker in everyone]
    machine_before = meter.read()
    time.sleep(seconds)
    for worker in everyone:
        worker.send(cmd="snapshot")
    after = [worker.read("snapshot", 60) for worker in everyone]
    machine = meter.window(machine_before, meter.read())
    n = len(receivers)
    return Measured(
        [receive_window(b, a) for b, a in zip(before[:n], after[:n], strict=True)],
        [publish_window(b, a) for b, a in zip(before[n:], after[n:], strict=True)],
        machine,
    )
