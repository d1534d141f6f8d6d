"""The knee search of benchmarks 1 and 2 on live processes: ``ramp`` brings every receiving
process (``Receivers``) to the count ``bench.ramp.Ramp`` plans (+50 % until a window degrades,
then bisect), measures a window at each (``bench.measure``), and measures the knee once more
over a longer window.

A window whose publishers were not healthy says nothing about the receiver and counts as
degraded, so a knee is never the sending side's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.common import Progress
from bench.measure import MachineMeter, Measured, measure
from bench.publishers import Publishers
from bench.ramp import Ramp
from bench.workers import Worker
from simulator.settings import Settings

SETTLE_S = 2.0
STEP_WINDOW_S = 5.0
FINAL_WINDOW_S = 10.0
RAMP_BUDGET_S = 90.0
"""A ramp stops at this age with the knee it has (reported as ``budget_hit``), to keep
``make bench`` within its time."""
FIRST_STEP = 100


@dataclass
class RampResult:
    knee: int
    """Streams per process at the knee."""
    final: Measured | None
    steps: list[dict[str, Any]] = field(default_factory=list)
    budget_hit: bool = False

    def brief(self) -> dict[str, Any]:
        return {
            "knee_per_process": self.knee,
            "final": self.final.brief() if self.final is not None else None,
            "steps": self.steps,
            "budget_hit": self.budget_hit,
        }


class Receivers:
    """The receiving processes of a ramp, started afresh after a degraded window: an overload
    can leave lasting damage behind (Janus sessions timed out, consent lapsed), and the count
    tried next must be measured on healthy streams only."""

    def __init__(self, make: Callable[[], list[Worker]]) -> None:
        self.make = make
        self.workers: list[Worker] = []
        self.current = 0

    def start(self) -> None:
        self.stop()
        self.workers = self.make()
        for worker in self.workers:
            worker.read("hello", 60)
        self.current = 0

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.workers = []
        self.current = 0

    def adjust(self, count: int) -> int:
        """Bring every process to ``count`` streams, in parallel; the connects that failed."""
        current, self.current = self.current, count
        if count == current:
            return 0
        for worker in self.workers:
            if count > current:
                worker.send(cmd="add", count=count - current)
            else:
                worker.send(cmd="remove", count=current - count)
        failed = 0
        for worker in self.workers:
            if count > current:
                failed += int(worker.read("added", 900).get("failed", 0))
            else:
                worker.read("removed", 300)
        return failed


def ramp(
    label: str,
    receivers: Receivers,
    publishers: Publishers,
    settings: Settings,
    progress: Progress,
    *,
    first: int = FIRST_STEP,
    budget_s: float = RAMP_BUDGET_S,
) -> RampResult:
    """Ramp every receiving process to the same count until a window degrades; the knee, and
    a longer window measured at it."""
    meter = MachineMeter(settings, publishers.server)
    plan = Ramp(first=first)
    began = time.monotonic()
    result = RampResult(0, None)
    try:
        receivers.start()
        while (count := plan.next()) is not None:
            if time.monotonic() - began > budget_s:
                result.budget_hit = True
                progress(f"  {label}: ramp stopped by its time budget ({budget_s:.0f} s)")
                break
            step = _probe(receivers, publishers, meter, count)
            plan.record(count, not step["degraded"])
            result.steps.append(step)
            progress(f"  {label}: {_describe(step)}")
            if step["degraded"]:
                receivers.start()  # the next count starts from healthy streams
        result.knee = plan.knee
        for attempt in range(2):
            if result.knee <= 0:
                break
            receivers.adjust(result.knee)
            time.sleep(SETTLE_S)
            final = measure(receivers.workers, publishers, meter, FINAL_WINDOW_S)
            brief = {"per_process": result.knee, **final.brief()}
            progress(f"  {label} at the knee: {_describe(brief)}")
            if not final.degraded() or attempt == 1:
                result.final = final
                break
            result.knee = int(result.knee * 0.9) // plan.quantum * plan.quantum
            receivers.start()
    finally:
        receivers.stop()
    return result


def _probe(
    receivers: Receivers, publishers: Publishers, meter: MachineMeter, count: int
) -> dict[str, Any]:
    began = time.monotonic()
    failed = receivers.adjust(count)
    connect_s = time.monotonic() - began
    time.sleep(SETTLE_S)
    measured = measure(receivers.workers, publishers, meter, STEP_WINDOW_S)
    why = measured.degraded() + ([f"{failed} connects failed"] if failed else [])
    return {
        "per_process": count,
        "connect_s": round(connect_s, 1),
        **measured.brief(),
        "degraded": why,
    }


def _describe(step: dict[str, Any]) -> str:
    text = (
        f"{step['per_process']} streams/process: {step['cores']} core, "
        f"{step['streams_per_core']} streams/core, publishers "
        + ", ".join(f"{p['fps_min']} fps" for p in step["publishers"])
        + f", server {step['janus_cores']} core, machine {step['machine_busy_pct']} % busy"
    )
    for r in step["receivers"]:
        text += f"; loss {r['loss_pct']} %, lag p95 {r['lag_p95_ms']} ms"
        text += f", {r['video_fps_per_stream']} fps"
    if step["degraded"]:
        text += " -> DEGRADED: " + "; ".join(step["degraded"])
    return text
