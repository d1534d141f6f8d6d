"""``rtcsim capacity FILE``: search a capacity scenario's knee against the running services.

Exit codes as ``rtcsim run``: 0 found (every check passed), 1 a check failed (the first step
already broke an SLO, or a built-in check), 2 setup error, 3 INVALID: the generator saturated
before the server broke an SLO (``rtcsim.pipeline.capacity``).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from rtcsim.cli.output import console, fail, print_outcome
from rtcsim.pipeline.capacity import run_capacity_scenario
from rtcsim.pipeline.outcome import SetupError
from simulator.load.capacity.verdict import shown
from simulator.scenario.capacity import CapacityScenario
from simulator.scenario.loader import ScenarioError, load_any_scenario
from simulator.settings import Settings

STEP_COLUMNS = (
    ("rooms", None),
    ("streams", None),
    ("joins", "join_success_ratio"),
    ("ICE p95 ms", "ice_p95_ms"),
    ("1st frame p95 ms", "first_frame_p95_ms"),
    ("latency p50/p95 ms", None),
    ("loss %", "subscriber_loss_pct"),
    ("fps p5", "video_fps_p5"),
    ("Janus CPU %", None),
    ("CPU %/stream", "server_cpu_per_stream_pct"),
    ("generator", None),
    ("verdict", None),
)


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
    table = Table(title=f"capacity — {result['scenario']}", title_justify="left")
    for column, _metric in STEP_COLUMNS:
        table.add_column(column, justify="left" if column == "verdict" else "right")
    for step in result["steps"]:
        figures = step["figures"]
        generator = step["generator"]
        cpu = step["server"]["janus_cpu_pct"]
        latency = f"{shown(figures.get('latency_p50_ms'))}/{shown(figures.get('latency_p95_ms'))}"
        cells = []
        for column, metric in STEP_COLUMNS:
            if metric is not None:
                cells.append(shown(figures.get(metric)))
            elif column == "rooms":
                cells.append(str(step["rooms"]))
            elif column == "streams":
                cells.append(str(step["streams"]))
            elif column.startswith("latency"):
                cells.append(latency)
            elif column == "Janus CPU %":
                cells.append(shown(cpu))
            elif column == "generator":
                lag = generator["loop_lag_p95_max_ms"]
                cells.append(f"{generator['cpu_avg_cores']:.2f} core, {lag:.0f} ms")
            else:
                cells.append(_verdict(step["verdict"]))
        table.add_row(*cells)
    console.print(table)
    console.print(f"[bold]{escape(result['headline'])}[/]  (load average {result['load_average']})")


def _verdict(verdict: str) -> str:
    colour = {"good": "green", "slo": "red", "unsteady": "red", "generator": "yellow"}[verdict]
    return f"[{colour}]{verdict}[/]"


def register(app: typer.Typer) -> None:
    app.command("capacity")(capacity)
