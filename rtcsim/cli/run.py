"""``rtcsim run``: play scenario files against the running services and check them.

Exit codes: 0 passed, 1 a check failed, 2 setup error (bad scenario, services missing), 3 the run
is invalid (the generator was saturated; ``simulator.watch``); the worst of the files wins.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated

import typer

from rtcsim.cli.live import LiveView
from rtcsim.cli.output import console, print_outcome
from rtcsim.pipeline.outcome import SetupError
from rtcsim.pipeline.runs import run_file
from simulator.scenario.loader import ScenarioError
from simulator.settings import Settings


def run(
    files: Annotated[list[Path], typer.Argument(help="scenario files (YAML)", exists=False)],
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log to the terminal")] = False,
) -> None:
    """Play scenarios against the running services, check them, write results/<run-id>/."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    settings = Settings()
    worst = 0
    for path in files:
        try:
            outcome = asyncio.run(
                run_file(
                    path,
                    settings,
                    progress=lambda m: console.print(f"[dim]·[/] {m}"),
                    live=LiveView(console),
                )
            )
        except (ScenarioError, SetupError) as exc:
            console.print(f"[bold red]error:[/] {exc}")
            raise typer.Exit(2) from None
        print_outcome(outcome)
        worst = max(worst, outcome.exit_code)
    raise typer.Exit(worst)
