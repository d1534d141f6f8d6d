"""The generator processes benchmarks 1 and 2 drive, seen from the bench: a child spoken to with
JSON lines (``Worker``) and the command line that starts one on a given server.

Every worker (``bench.generator_worker`` on Janus, ``bench.server_worker`` on the others, the
pion baseline ``bench/pion``) speaks the same line protocol (``bench.worker_loop``), so one
ramp (``bench.knee_search``) drives any of them through ``send`` and ``read``.
"""

from __future__ import annotations

import contextlib
import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from simulator.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


class Worker:
    """A child process spoken to with JSON lines (``bench.generator_worker`` or pion)."""

    def __init__(self, name: str, command: Sequence[str]) -> None:
        self.name = name
        self.proc = subprocess.Popen(
            list(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            start_new_session=True,  # its own autogroup: the scheduler's share of a program
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr: list[str] = []
        assert self.proc.stdout is not None
        assert self.proc.stderr is not None
        self._pumps = [
            threading.Thread(target=self._pump, args=(stream, into), daemon=True)
            for stream, into in ((self.proc.stdout, self._lines), (self.proc.stderr, None))
        ]
        for pump in self._pumps:
            pump.start()

    def _pump(self, stream: IO[str], into: queue.Queue[str | None] | None) -> None:
        with stream:  # closed at the child's end of output, not left to the collector
            for line in stream:
                if into is not None:
                    into.put(line)
                else:
                    self._stderr.append(line)
                    del self._stderr[:-100]
        if into is not None:
            into.put(None)

    def send(self, **command: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()

    def read(self, event: str, timeout_s: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"{self.name}: no {event!r} in {timeout_s:.0f} s") from None
            if line is None:
                self.stop(5)
                tail = "".join(self._stderr)[-1500:]
                raise RuntimeError(f"{self.name} ended (exit {self.proc.returncode}): {tail}")
            if not line.startswith("{"):
                continue
            message: dict[str, Any] = json.loads(line)
            if message.get("event") == event:
                return message
            if message.get("event") == "error":
                raise RuntimeError(f"{self.name}: {message.get('error')}")

    def stop(self, timeout_s: float = 90.0) -> None:
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        for pump in self._pumps:
            pump.join(5)  # its pipe reaches its end with the child: the pump closes it


def _janus_worker(settings: Settings, role: str, room: str, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "bench.generator_worker",
        role,
        "--janus-url",
        settings.janus_url,
        "--netns",
        settings.client_netns,
        "--room",
        room,
        "--clips",
        str(settings.cache_dir / "clips"),
        *extra,
    ]


def _server_worker(settings: Settings, server: str, role: str, room: str, *extra: str) -> list[str]:
    """A generator process on a server other than Janus (``bench.server_worker``)."""
    command = [sys.executable, "-m", "bench.server_worker", role, "--server", server]
    return [*command, "--room", room, "--clips", str(settings.cache_dir / "clips"), *extra]


def worker_command(settings: Settings, server: str, role: str, room: str, *extra: str) -> list[str]:
    """The command line of an rtcsim generator process of ``role`` (``publish`` or
    ``subscribe``) in ``room`` on ``server``; Janus has a worker of its own (its subscribers
    share Janus sessions, which the media-server protocol cannot)."""
    if server == "janus":
        return _janus_worker(settings, role, room, *extra)
    return _server_worker(settings, server, role, room, *extra)
