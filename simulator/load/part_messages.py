"""The ledger parts' journey over locust's own link (``runner.send_message`` and
``register_message``), so master and workers share no folder and may sit on separate machines.

- A **worker** sends its part when locust stops its users (``test_stop``), which locust also
  does when the worker quits (a ``quit`` from the master, a lost master, Ctrl-C): a part is
  sent whichever way the worker ends, before its ``quit`` notice on the same ordered link. It
  keeps its own copy too (``ledger-<pid>.json`` in its run folder), so nothing is lost when the
  master is gone first.
- The **master** takes chunks at any time (``simulator.load.parts.Assembly``), writes each
  complete part into its run folder (``ledger-<pid>-w<index>-<host>.json``) and acknowledges it.
  At the end of the run (:func:`collect`) it stops the users, then waits, bounded, until every
  worker that ever connected has delivered, writes ``parts-received.json`` naming the ones
  that did not, for the conclusion to report, and tells every worker to quit (a worker still
  finishing handles the ``quit`` after it has sent its part: one greenlet reads both).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from simulator.load.parts import (
    MANIFEST,
    Assembly,
    Origin,
    PartError,
    chunk_messages,
    missing,
    no_part_message,
)

PART_MESSAGE = "rtcsim_ledger_part"
ACK_MESSAGE = "rtcsim_ledger_ack"
WAIT_FOR_PARTS_S = 120.0
"""How long the master waits for the parts after it stopped the users: a worker writes its
part after its goodbyes and recording conversions (seconds on a busy machine)."""

log = logging.getLogger(__name__)


def origin_of(runner: WorkerRunner) -> Origin:
    return Origin(int(runner.worker_index), socket.gethostname(), os.getpid())


def send_part(runner: WorkerRunner, path: Path | None) -> None:
    """Send this worker's part (``None``: it ran no user) to the master."""
    origin = origin_of(runner)
    if path is None:
        runner.send_message(PART_MESSAGE, no_part_message(origin))
        return
    messages = chunk_messages(origin, path.read_text())
    for message in messages:
        runner.send_message(PART_MESSAGE, message)
        gevent.sleep(0)  # let heartbeats and stats through between chunks
    log.info("ledger part %s sent to the master in %d message(s)", origin.label, len(messages))


def _on_ack(msg: Any, **_kwargs: Any) -> None:
    log.info("the master has the ledger part: %s", msg.data)


class MasterParts:
    """What the master knows of the parts: the workers it expects, those that delivered."""

    def __init__(self, environment: Environment, run_dir: Callable[[], Path]) -> None:
        self.environment = environment
        self.run_dir = run_dir
        self.assembly = Assembly()
        self.expected: dict[str, str] = {}
        self.done: set[str] = set()
        self.written: list[str] = []
        environment.events.worker_connect.add_listener(self._on_connect)  # type: ignore[no-untyped-call]

    def _on_connect(self, client_id: str, **_kwargs: Any) -> None:
        runner = self.environment.runner
        index = (
            runner.get_worker_index(client_id)  # type: ignore[no-untyped-call]
            if isinstance(runner, MasterRunner)
            else -1
        )
        self.expected[client_id] = f"worker {index} ({client_id})"

    def on_part(self, msg: Any, **_kwargs: Any) -> None:
        client_id = str(msg.node_id)
        self.expected.setdefault(client_id, f"worker ({client_id})")
        try:
            complete = self.assembly.add(client_id, msg.data)
        except PartError as exc:
            log.error("%s", exc)
            return
        if complete is None:
            return
        origin, text = complete
        self.done.add(client_id)
        if text is None:
            log.info("%s ran no user: no ledger part", origin.label)
            return
        folder = self.run_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"ledger-{origin.label}.json"
        path.write_text(text)
        self.written.append(path.name)
        log.info("ledger part written: %s (from %s)", path, client_id)
        runner = self.environment.runner
        if isinstance(runner, MasterRunner):
            runner.send_message(ACK_MESSAGE, {"part": path.name}, client_id=client_id)

    def missing(self) -> list[str]:
        return missing(self.expected, self.done)

    def write_manifest(self) -> Path:
        folder = self.run_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / MANIFEST
        record = {"received": sorted(self.written), "missing": self.missing()}
        path.write_text(json.dumps(record, indent=2) + "\n")
        return path


_master: MasterParts | None = None


def install(environment: Environment, run_dir: Callable[[], Path]) -> None:
    """At locust's ``init``: the master listens for parts, a worker for their receipts."""
    global _master
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        _master = MasterParts(environment, run_dir)
        runner.register_message(PART_MESSAGE, _master.on_part)
    elif isinstance(runner, WorkerRunner):
        runner.register_message(ACK_MESSAGE, _on_ack)


def collect(environment: Environment, wait_s: float = WAIT_FOR_PARTS_S) -> list[str]:
    """On the master at the end of the run: stop the users (every worker then sends its part),
    wait for the parts, write the manifest; the workers still missing, by name."""
    runner = environment.runner
    if not isinstance(runner, MasterRunner) or _master is None:
        return []
    runner.stop()
    deadline = time.monotonic() + wait_s
    while _master.missing() and time.monotonic() < deadline:
        gevent.sleep(0.5)
    left = _master.missing()
    if left:
        log.error(
            "no ledger part within %.0f s from %s: its visits are missing from the run",
            wait_s,
            ", ".join(left),
        )
    _master.write_manifest()
    # A stopped worker is no longer among the master's clients (it said ``client_stopped``), so
    # locust's own quit would reach none of them: measured, each then lingered 60 s until its
    # master-heartbeat timeout. Every worker that connected is told to quit here.
    for client_id in _master.expected:
        runner.send_message("quit", client_id=client_id)
    return left
