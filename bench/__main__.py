"""``python -m bench [--only 3,4] [--quick]``: the six benchmarks of issues 6 and 16, in order.

Makes sure the stack is up (``rtcsim services up``, reusing what runs), runs each benchmark with
progress lines, prints one table of figures against targets and writes
``<results_dir>/bench-<time>/bench.json``. Exit code: 0 when every benchmark ran (a missed
target is a finding, printed in red, not a failure), 1 when one crashed, 2 when the stack could
not be brought up.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from rich.console import Console

from bench.common import JANUS_RAMPS_DONE, BenchResult, Milestone, Progress
from bench.report import Outcome, exit_code, table, write_json
from rtcsim.services import stack
from rtcsim.services.errors import ServiceError
from simulator.settings import Settings

Runner = Callable[[Settings, Progress, bool], BenchResult]


@dataclass(frozen=True)
class Benchmark:
    number: int
    name: str
    module: str
    function: str
    takes_quick: bool = True


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark(1, "streams per core, one generator", "bench.generator", "run_streams_per_core"),
    Benchmark(2, "two generator processes vs one", "bench.generator", "run_two_processes", False),
    Benchmark(3, "collector ingest vs raw _bulk", "bench.collector_ingest", "run"),
    Benchmark(4, "last leave to sessionSummary searchable", "bench.summary_latency", "run"),
    Benchmark(5, "collector RSS with 10,000 active endpoints", "bench.collector_memory", "run"),
    Benchmark(6, "collector journal under churn, replay", "bench.journal_churn", "run"),
)


def resolve(bench: Benchmark) -> Runner | str:
    """The benchmark's function, or why it is not available (its module is not there yet)."""
    try:
        module = importlib.import_module(bench.module)
        function = getattr(module, bench.function)
    except (ImportError, AttributeError) as exc:
        return f"not available: {bench.module}.{bench.function} ({exc})"

    def call(settings: Settings, progress: Progress, quick: bool) -> BenchResult:
        if bench.takes_quick:
            result: BenchResult = function(settings, progress, quick=quick)
        else:
            result = function(settings, progress)
        return result

    return call


def parse_only(text: str | None) -> list[int]:
    """``"3,4"`` → ``[3, 4]``; None → all. Unknown numbers are an error naming the known ones."""
    known = [b.number for b in BENCHMARKS]
    if not text:
        return known
    try:
        chosen = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"--only takes numbers like 3,4 (got {text!r})") from None
    unknown = [n for n in chosen if n not in known]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown benchmark {unknown}; known: {known}")
    return chosen


def run_one(
    bench: Benchmark, settings: Settings, console: Console, quick: bool, t0: float
) -> Outcome:
    def progress(message: str) -> None:
        console.print(
            f"[dim]{time.monotonic() - t0:6.1f}s[/] [cyan]\\[{bench.number}][/] {message}"
        )

    runner = resolve(bench)
    if isinstance(runner, str):
        progress(f"[yellow]{runner}[/]")
        return Outcome(bench.number, bench.name, unavailable=runner)
    progress(f"[bold]{bench.name}[/]")
    began = time.monotonic()
    try:
        result = runner(settings, progress, quick)
    except Exception as exc:
        console.print(traceback.format_exc(), style="red", markup=False, highlight=False)
        last = f"{type(exc).__name__}: {exc}"
        return Outcome(bench.number, bench.name, error=last, seconds=time.monotonic() - began)
    verdict = "[green]met[/]" if result.met else "[red bold]MISSED[/]"
    progress(f"{result.measured:g} {result.unit} (target {result.target_text}): {verdict}")
    return Outcome(bench.number, bench.name, result=result, seconds=time.monotonic() - began)


BESIDE = {6: (1, 2, 3, 4, 5)}
"""Benchmark 6 feeds its own collector for 10 minutes at a light rate (about 100 events a
second): it runs in the background while the others run in the foreground, so ``make bench``
stays within 20 minutes (one after the other they took 21.6). Beside benchmark 1 it waits for
that benchmark's gate (``GATES``): the ramps on Janus, whose knee is where the machine's two
cores run out, have the machine to themselves; LiveKit's ramp, indicative, and the rest do not.
What it takes from them is measured, not assumed: its collector's and feeder's cores over the
churn are in its detail (``cores_while_churning``); ``bench.json`` says what ran beside it."""

GATES = {1: JANUS_RAMPS_DONE}
"""What a benchmark started beside benchmark N waits for inside N; reached at the latest when N
ends (it crashed, or had no such part)."""


def run_all(
    chosen: list[Benchmark], settings: Settings, console: Console, quick: bool, t0: float
) -> list[Outcome]:
    """Every chosen benchmark, in order; those of ``BESIDE`` started in a thread before the
    first of their companions (held at its gate, if it has one) and joined after the last;
    outcomes in benchmark order."""
    numbers = {b.number for b in chosen}
    for gate in GATES.values():
        gate.reset()
    background: dict[int, tuple[threading.Thread, list[Outcome]]] = {}
    outcomes: list[Outcome] = []

    def launch(side: Benchmark, gate: Milestone | None) -> None:
        slot: list[Outcome] = []

        def body() -> None:
            if gate is not None:
                gate.wait()
            slot.append(run_one(side, settings, console, quick, t0))

        thread = threading.Thread(target=body, name=f"bench-{side.number}", daemon=True)
        thread.start()
        background[side.number] = (thread, slot)

    for bench in chosen:
        if bench.number in background:
            continue
        for number, companions in BESIDE.items():
            if number in numbers and number not in background and bench.number in companions:
                launch(next(b for b in chosen if b.number == number), GATES.get(bench.number))
        try:
            outcomes.append(run_one(bench, settings, console, quick, t0))
        finally:
            if bench.number in GATES:
                GATES[bench.number].reach()
    for thread, slot in background.values():
        thread.join()
        outcomes += slot
    return sorted(outcomes, key=lambda o: o.number)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--only", type=parse_only, default=None, help="e.g. 3,4 (default: all)")
    parser.add_argument("--quick", action="store_true", help="smaller workloads, for a smoke run")
    args = parser.parse_args(argv)
    chosen: list[int] = args.only or parse_only(None)
    console = Console()
    settings = Settings()
    try:
        stack.up(settings, console=console)
    except ServiceError as exc:
        console.print(f"[red]the stack could not be brought up:[/] {exc}")
        return 2
    started = datetime.now()
    t0 = time.monotonic()
    outcomes = run_all(
        [b for b in BENCHMARKS if b.number in chosen], settings, console, args.quick, t0
    )
    wall_s = time.monotonic() - t0
    console.print(table(outcomes))
    ran = {o.number for o in outcomes}
    beside = {
        str(n): [c for c in companions if c in ran] for n, companions in BESIDE.items() if n in ran
    }
    extra = {
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        "cpu_count": os.cpu_count(),
        "beside": {k: v for k, v in beside.items() if v},
        "command": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    path = write_json(settings.results_dir, outcomes, started, wall_s, extra)
    missed = [o.number for o in outcomes if o.result is not None and not o.result.met]
    if missed:
        console.print(f"[red bold]target missed by benchmark {missed}[/] (a finding, exit 0)")
    console.print(f"{len(outcomes)} benchmarks in {wall_s:.0f} s; figures in {path}")
    return exit_code(outcomes)


if __name__ == "__main__":
    raise SystemExit(main())
