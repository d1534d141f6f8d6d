"""``rtcsim load``: a headless locust run of a locustfile, on this machine only.

Without ``--workers`` one locust process runs every user; with ``--workers K`` a master and K
workers talk over 127.0.0.1 (locust's own ``--master``/``--worker``). Users and time are
bounded. Locust's CSV stats land in ``<results_dir>/load-<time>/``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from simulator.settings import Settings

MAX_USERS = 500
MAX_RUN_TIME_S = 3600
MAX_WORKERS = max(1, os.cpu_count() or 1) * 2
MASTER_PORT = 5557

app = typer.Typer(help="Load with locust: one user, one WebRTC participant.")


def run_time_s(text: str) -> int:
    """locust's ``--run-time`` syntax (``90``, ``60s``, ``2m``, ``1h30m``) in seconds."""
    if text.isdigit():
        return int(text)
    parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", text)
    if not text or parts is None:
        raise typer.BadParameter(f"{text!r}: use e.g. 60s, 5m, 1h30m")
    hours, minutes, seconds = (int(p or 0) for p in parts.groups())
    return hours * 3600 + minutes * 60 + seconds


def locust_commands(
    locustfile: Path,
    *,
    users: int,
    spawn_rate: float,
    run_time: str,
    workers: int,
    csv_prefix: Path,
    stop_timeout_s: int,
    master_port: int = MASTER_PORT,
) -> list[list[str]]:
    """The locust command lines: one, or the master first and then the workers."""
    common = [sys.executable, "-m", "locust", "-f", str(locustfile)]
    run = [
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(spawn_rate),
        "--run-time",
        run_time,
        "--stop-timeout",
        str(stop_timeout_s),
        "--csv",
        str(csv_prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    if workers == 0:
        return [common + run]
    master = (
        common
        + run
        + [
            "--master",
            "--master-bind-host",
            "127.0.0.1",
            "--master-bind-port",
            str(master_port),
            "--expect-workers",
            str(workers),
        ]
    )
    worker = [
        *common,
        "--worker",
        "--master-host",
        "127.0.0.1",
        "--master-port",
        str(master_port),
        "--loglevel",
        "WARNING",
    ]
    return [master] + [worker] * workers


def load(
    locustfile: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="a locustfile")],
    users: Annotated[int, typer.Option("--users", "-u", min=1, max=MAX_USERS)] = 6,
    spawn_rate: Annotated[float, typer.Option("--spawn-rate", "-r", min=0.1, max=50)] = 2.0,
    run_time: Annotated[str, typer.Option("--run-time", "-t", help="e.g. 60s, 5m")] = "60s",
    workers: Annotated[int, typer.Option("--workers", min=0, max=MAX_WORKERS)] = 0,
    stop_timeout_s: Annotated[
        int, typer.Option("--stop-timeout", min=0, max=300, help="let users finish their visit")
    ] = 30,
) -> None:
    """Run LOCUSTFILE headless against the stack of the current settings."""
    if locustfile.suffix != ".py":
        raise typer.BadParameter("load runs locustfiles (.py); see scenarios/locust/load-small.py")
    seconds = run_time_s(run_time)
    if not 0 < seconds <= MAX_RUN_TIME_S:
        raise typer.BadParameter(f"--run-time must be between 1 s and {MAX_RUN_TIME_S} s")
    out = Settings().results_dir / time.strftime("load-%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    commands = locust_commands(
        locustfile,
        users=users,
        spawn_rate=spawn_rate,
        run_time=run_time,
        workers=workers,
        csv_prefix=out / "stats",
        stop_timeout_s=stop_timeout_s,
    )
    env = {**os.environ, "LOCUST_SKIP_MONKEY_PATCH": "1"}
    procs = [subprocess.Popen(cmd, env=env) for cmd in commands]
    deadline = time.monotonic() + seconds + stop_timeout_s + 60
    try:
        rc = procs[0].wait(max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        rc = 1
        typer.echo("locust overran its run time; stopping it", err=True)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
    typer.echo(f"locust stats: {out}/stats_stats.csv")
    raise typer.Exit(rc)


app.command()(load)


def register(parent: typer.Typer) -> None:
    """Mount as ``rtcsim load`` (one command, not a group)."""
    parent.command("load")(load)


if __name__ == "__main__":
    app()
