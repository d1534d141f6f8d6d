"""``rtcsim capacity FILE``: search a capacity scenario's knee against the running services.

Exit codes as ``rtcsim run``: 0 found (every check passed), 1 a check failed (the first step
already broke an SLO, or a built-in check), 2 setup error, 3 INVALID: the generator saturated
before the server broke an SLO (``rtcsim.pipeline.capacity``).
"""

from __future__ import annotations

import asyncio
import logging
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from rtcsim.cli.output import console, fail, print_outcome
from rtcsim.pipeline.capacity import run_capacity_scenario
from rtcsim.pipeline.outcome import SetupError
from simulator.scenario.capacity import CapacityScenario
from simulator.scenario.loader import ScenarioError, load_any_scenario
from simulator.settings import Settings

COLUMNS = (
    "rooms",
    "streams",
    "joins",
    "ICE p95",
    "frame p95",
    "latency",
    "loss %",
    "fps p5",
    "Janus %",
    "thr %",
    "generator",
    "verdict",
)
"""ICE, first frame: ms, p95; latency: ms, p50/p95; Janus: % of one core; generator: its CPU
(cores) / the worst loop lag p95 (ms); thr: with a CPU budget, the window's CFS periods
in which the server used all of it."""


def _num(value: float | None, digits: int = 0) -> str:
    """A figure in a table cell: ``—`` not measured, ``never`` infinite (``verdict.shown``)."""
    if value is None or math.isinf(value):
        return "—" if value is None else "never"
    return f"{value:.{digits}f}"


def capacity(
    file: Annotated[
        Path, typer.Argument(help="a capacity scenario (YAML with capacity: and slo:)")
    ],
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log to the terminal")] = False,
) -> None:
    """Add rooms step by step until an SLO breaks; report the last good step as the capacity."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        scenario = load_any_scenario(file)
    except ScenarioError as exc:
        raise fail(str(exc)) from None
    if not isinstance(scenario, CapacityScenario):
        raise fail(f"{file}: not a capacity scenario (it needs capacity: and slo:)")
    try:
        outcome = asyncio.run(
            run_capacity_scenario(
                scenario,
                file,
                Settings(),
                progress=lambda m: console.print(f"[dim]·[/] {escape(m)}"),
            )
        )
    except SetupError as exc:
        raise fail(str(exc)) from None
    print_outcome(outcome)
    print_capacity(outcome.sections.get("capacity", {}))
    raise typer.Exit(outcome.exit_code)


def print_capacity(result: dict[str, Any]) -> None:
    """The steps as a table, then the headline."""
    if not result:
        return
    cores = result.get("server_cpu_cores")
    budget = f" (server held to {cores:g} core)" if cores is not None else ""
    table = Table(
        title=f"capacity — {result['scenario']}{budget}",
        title_justify="left",
        caption="ICE, frame: ms; latency: p50/p95 ms; Janus: % of a core; thr: % of "
        "CFS periods at the budget; generator: cores/loop lag p95 ms",
    )
    for column in COLUMNS:
        table.add_column(column, justify="left" if column == "verdict" else "right", no_wrap=True)
    for step in result["steps"]:
        f, generator, server = step["figures"], step["generator"], step["server"]
        table.add_row(
            str(step["rooms"]),
            str(step["streams"]),
            _num(f.get("join_success_ratio"), 2),
            _num(f.get("ice_p95_ms")),
            _num(f.get("first_frame_p95_ms")),
            f"{_num(f.get('latency_p50_ms'))}/{_num(f.get('latency_p95_ms'))}",
            _num(f.get("subscriber_loss_pct"), 2),
            _num(f.get("video_fps_p5"), 1),
            _num(server.get("janus_cpu_pct"), 1),
            _num(step.get("server_throttled_pct")),
            f"{generator['cpu_avg_cores']:.2f}/{generator['loop_lag_p95_max_ms']:.0f}",
            _verdict(step["verdict"]),
        )
    console.print(table)
    if result.get("server_per_added_stream_line"):
        console.print(f"Janus per added stream: {result['server_per_added_stream_line']}")
    console.print(f"[bold]{escape(result['headline'])}[/]  (load average {result['load_average']})")


def _verdict(verdict: str) -> str:
    colour = {"good": "green", "slo": "red", "unsteady": "red", "generator": "yellow"}[verdict]
    return f"[{colour}]{verdict}[/]"


def register(app: typer.Typer) -> None:
    app.command("capacity")(capacity)
