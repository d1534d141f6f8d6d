"""``locust -f LOCUSTFILE`` as locust users type it (headless or with the web UI), without
``rtcsim load`` around it (issue 15).

Two things ``rtcsim load`` does for its locust processes have to happen here instead:

- locust imports gevent's ``monkey.patch_all()`` before it reads the locustfile unless
  ``LOCUST_SKIP_MONKEY_PATCH`` is set (``locust/__init__.py``), and rtcsim's media thread must
  stay a real thread (``simulator.load.locust_user``). When the locustfile is imported by a
  patched locust command line, :func:`restart_unpatched` replaces the process with the same
  command (``python -m locust`` and the same arguments) and the variable set: nothing has
  started yet, so nothing is lost, and the user's command line works as typed.
- the run is concluded when locust quits: each run this process recorded (a ledger part in its
  own ``results/<run-id>/``) is handed to ``rtcsim conclude RUN_DIR`` in a child process (the
  library does not import ``rtcsim``, which sits above it), which reads the documents back,
  checks them and writes ``summary.json``, ``junit.xml`` and the report, as ``rtcsim load``
  would; locust's exit code becomes the conclusion's when that is worse.

A distributed plain run (``--master``/``--worker`` typed by hand) is recorded per process but
not concluded: ``rtcsim load --workers K`` is the way for that.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

RESTARTED_ENV = "RTCSIM_LOCUST_RESTARTED"
"""Set in the restarted process: a second restart would loop."""
PLAIN_ENV_MARK = "RTCSIM_LOAD_RUN_ID"
"""``rtcsim load`` sets this in its locust processes (``simulator.load.session.RUN_ID_ENV``):
its absence means a plain ``locust -f``."""

log = logging.getLogger(__name__)
recorded: list[Path] = []
"""The run folders this process wrote a ledger part to (one per test the web UI started)."""


def run_by_locust_command_line() -> bool:
    return "locust.main" in sys.modules


def plain() -> bool:
    """Started by ``locust`` itself, not by ``rtcsim load``."""
    return run_by_locust_command_line() and PLAIN_ENV_MARK not in os.environ


def restart_unpatched() -> None:
    """Replace this patched locust process by the same command with the patching skipped;
    None (nothing done) when that was tried already or this is not locust's command line."""
    if not run_by_locust_command_line() or os.environ.get(RESTARTED_ENV):
        return None
    env = {**os.environ, "LOCUST_SKIP_MONKEY_PATCH": "1", RESTARTED_ENV: "1"}
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, "-m", "locust", *sys.argv[1:]], env)


def conclude_recorded(environment: Any, **_kwargs: Any) -> None:
    """At locust's ``quitting`` (after the caller closed the session): conclude every run this
    plain process recorded."""
    if not plain() or _distributed(environment):
        return
    worst = 0
    for folder in recorded:
        log.info("concluding %s", folder)
        done = subprocess.run([sys.executable, "-m", "rtcsim", "conclude", str(folder)])
        worst = max(worst, done.returncode)
    recorded.clear()
    if worst:
        environment.process_exit_code = max(environment.process_exit_code or 0, worst)


def _distributed(environment: Any) -> bool:
    runner = type(getattr(environment, "runner", None)).__name__
    return runner in ("MasterRunner", "WorkerRunner")
