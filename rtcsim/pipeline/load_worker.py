"""A locust worker of someone else's run: ``rtcsim load LOCUSTFILE --worker --master-host HOST``
on a machine of its own. It connects to the master (``rtcsim load --remote-workers N`` on another
machine), takes the run id from it, plays the users the master gives it, and sends its ledger
part back over locust's link when they stop (``simulator.load.part_messages``), keeping its own
copy in ``<results_dir>/<run-id>/``. It concludes nothing: the master's machine does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from simulator.load.session import RUN_DIR_ENV, RUN_ID_ENV


def worker_command(
    locustfile: Path, master_host: str, master_port: int, loglevel: str = "WARNING"
) -> list[str]:
    """One locust worker's command line; it takes the run id from the master."""
    return [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(locustfile),
        "--worker",
        "--master-host",
        master_host,
        "--master-port",
        str(master_port),
        "--loglevel",
        loglevel,
    ]


def worker_env(*, run_dir: Path | None = None, server: str | None = None) -> dict[str, str]:
    """The environment of a worker started by rtcsim, here or on another machine: locust
    unpatched; marked as rtcsim's (not a plain ``locust -f``), its run id left to the master."""
    env = {**os.environ, "LOCUST_SKIP_MONKEY_PATCH": "1", RUN_ID_ENV: ""}
    if run_dir is not None:
        env[RUN_DIR_ENV] = str(run_dir)
    else:
        env.pop(RUN_DIR_ENV, None)
    if server is not None:
        env["RTCSIM_SERVER"] = server
    return env


def run_worker(locustfile: Path, master_host: str, master_port: int, *, server: str) -> int:
    """Run one worker to its end (the master's ``quit``); locust's exit code."""
    command = worker_command(locustfile, master_host, master_port, loglevel="INFO")
    return subprocess.run(command, env=worker_env(server=server)).returncode
