"""``rtcsim run``: play scenario files against the running services and check them.

Exit codes: 0 passed, 1 a check failed, 2 setup error (bad scenario, services missing), 3 the run
is invalid (the generator was saturated; ``simulator.watch``); the worst of the files wins.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated, cast

import typer
from pydantic import ValidationError

from rtcsim.cli.live import LiveView
from rtcsim.cli.output import console, print_outcome
from rtcsim.pipeline.outcome import SetupError
from rtcsim.pipeline.runs import run_file
from simulator.scenario.loader import ScenarioError
from simulator.settings import SERVERS, ServerName, Settings


def run(
    files: Annotated[list[Path], typer.Argument(help="scenario files (YAML)", exists=False)],
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log to the terminal")] = False,
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            help=f"the media server to play against: {', '.join(SERVERS)} "
            "(default: the settings' server, RTCSIM_SERVER, else janus)",
        ),
    ] = None,
) -> None:
    """Play scenarios against the running services, check them, write results/<run-id>/."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        # Validated at run time like any other setting (an unknown name lists the known ones).
        settings = Settings() if server is None else Settings(server=cast(ServerName, server))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        console.print(f"[bold red]error:[/] invalid settings: {problems}", highlight=False)
        raise typer.Exit(2) from None
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
