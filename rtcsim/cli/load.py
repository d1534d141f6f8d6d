"""``rtcsim load``: a headless locust run of a locustfile, on this machine or across several.

Without ``--workers`` one locust process runs every user; with ``--workers K`` a master and K
workers talk over 127.0.0.1 (locust's own ``--master``/``--worker``). Across machines, the master
waits for ``--remote-workers N`` more on ``--master-bind-host``/``--master-port``, and each other
machine runs ``rtcsim load LOCUSTFILE --worker --master-host HOST``; the workers' ledger parts come
back over locust's messages, so no folder is shared. Users and time are bounded. The run is
recorded and checked like ``rtcsim run`` (``rtcsim.pipeline.load``); locust's
CSV stats and log land in ``<results_dir>/<run-id>/`` with the rest.
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import Annotated

import typer

from rtcsim.cli.framework import load_settings
from rtcsim.cli.output import console, print_outcome
from rtcsim.pipeline.load import MASTER_PORT, MasterPlace, conclude_folder, run_load_scenario
from rtcsim.pipeline.load_worker import run_worker
from rtcsim.pipeline.preflight import preflight
from simulator.scenario.load import LoadScenario, LoadSpec

MAX_USERS = 500
MAX_RUN_TIME_S = 3600
MAX_WORKERS = max(1, os.cpu_count() or 1) * 2
MAX_REMOTE_WORKERS = 64


def run_time_s(text: str) -> int:
    """locust's ``--run-time`` syntax (``90``, ``60s``, ``2m``, ``1h30m``) in seconds."""
    if text.isdigit():
        return int(text)
    parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", text)
    if not text or parts is None:
        raise typer.BadParameter(f"{text!r}: use e.g. 60s, 5m, 1h30m")
    hours, minutes, seconds = (int(p or 0) for p in parts.groups())
    return hours * 3600 + minutes * 60 + seconds


def load(
    locustfile: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="a locustfile", metavar="LOCUSTFILE")
    ],
    users: Annotated[int, typer.Option("--users", "-u", min=1, max=MAX_USERS)] = 6,
    spawn_rate: Annotated[float, typer.Option("--spawn-rate", "-r", min=0.1, max=50)] = 2.0,
    run_time: Annotated[str, typer.Option("--run-time", "-t", help="e.g. 60s, 5m")] = "60s",
    workers: Annotated[int, typer.Option("--workers", min=0, max=MAX_WORKERS)] = 0,
    stop_timeout_s: Annotated[
        int, typer.Option("--stop-timeout", min=0, max=300, help="let users finish their visit")
    ] = 30,
    remote_workers: Annotated[
        int,
        typer.Option(
            "--remote-workers", min=0, max=MAX_REMOTE_WORKERS, help="workers on other machines"
        ),
    ] = 0,
    master_bind_host: Annotated[
        str | None,
        typer.Option(help="where the master listens (default 127.0.0.1; 0.0.0.0 with remote)"),
    ] = None,
    master_port: Annotated[
        int | None, typer.Option(min=1, max=65535, help=f"default {MASTER_PORT} with remote")
    ] = None,
    worker: Annotated[
        bool, typer.Option("--worker", help="be a worker of the master at --master-host")
    ] = False,
    master_host: Annotated[str | None, typer.Option(help="the master a --worker joins")] = None,
) -> None:
    """Run LOCUSTFILE headless against the stack of the current settings, record it with the
    collector and check it (built-in invariants) like a scenario run. For throughput
    expectations, write a load scenario (a YAML file with ``load:`` and ``expect:``) and
    ``rtcsim run`` it."""
    if locustfile.suffix != ".py":
        raise typer.BadParameter("load runs locustfiles (.py); see scenarios/locust/load-small.py")
    if worker:
        if master_host is None:
            raise typer.BadParameter("--worker needs --master-host (the master's address)")
        if workers or remote_workers or master_bind_host:
            raise typer.BadParameter(
                "--worker takes only --master-host and --master-port: the master decides the rest"
            )
        code = run_worker(
            locustfile.resolve(),
            master_host,
            master_port or MASTER_PORT,
            server=load_settings().server,
        )
        raise typer.Exit(code)
    if master_host is not None:
        raise typer.BadParameter(
            "--master-host is for --worker; the master binds --master-bind-host"
        )
    place = MasterPlace(
        bind_host=master_bind_host or ("0.0.0.0" if remote_workers else "127.0.0.1"),
        port=master_port or (MASTER_PORT if remote_workers else 0),
        remote_workers=remote_workers,
    )
    seconds = run_time_s(run_time)
    if not 0 < seconds <= MAX_RUN_TIME_S:
        raise typer.BadParameter(f"--run-time must be between 1 s and {MAX_RUN_TIME_S} s")
    scenario = LoadScenario(
        name=re.sub(r"[^A-Za-z0-9_-]", "-", locustfile.stem)[:40] or "load",
        load=LoadSpec(
            locustfile=str(locustfile.resolve()),
            users=users,
            spawn_rate=spawn_rate,
            run_time_s=seconds,
            workers=workers,
            stop_timeout_s=stop_timeout_s,
        ),
    )
    settings = load_settings()
    asyncio.run(preflight(settings))  # SetupError: one line, exit 2, before locust starts
    outcome = asyncio.run(
        run_load_scenario(
            scenario,
            locustfile,
            settings,
            progress=lambda m: console.print(f"[dim]·[/] {m}"),
            place=place,
        )
    )
    print_outcome(outcome)
    typer.echo(f"locust stats: {outcome.results_dir}/stats_stats.csv")
    raise typer.Exit(outcome.exit_code)


def conclude(
    folder: Annotated[
        Path, typer.Argument(exists=True, file_okay=False, help="a run folder", metavar="RUN_DIR")
    ],
) -> None:
    """Conclude a plain `locust -f` run (locust calls this as it quits): read back, check,
    write summary.json, junit.xml and the report."""
    settings = load_settings()
    outcome = asyncio.run(
        conclude_folder(folder, settings, progress=lambda m: console.print(f"[dim]·[/] {m}"))
    )
    print_outcome(outcome)
    raise typer.Exit(outcome.exit_code)


def register(parent: typer.Typer) -> None:
    """Mount as ``rtcsim load`` (one command, not a group), and the hidden ``rtcsim conclude``
    a plain ``locust -f`` run calls (``simulator.load.plain_locust``)."""
    parent.command("load")(load)
    parent.command("conclude", hidden=True)(conclude)
