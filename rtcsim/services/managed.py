"""What the services rtcsim runs (Elasticsearch, the collector, Janus) have in common.

Each has a folder of its own holding its pid file and its output (stdout and stderr, where it
reports errors before its own log is open). A pid file is trusted only while its process is still
the program we launched: its command line must name the service's ``process_mark``, because pids
are recycled (``rtcsim.services.process``). A start spawns the service, waits for its health
check while the process lives, and on failure says which it was: the process exited, or it never
answered in time.
"""

from __future__ import annotations

import socket
import subprocess
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rtcsim.services.process import (
    ServiceProcess,
    running_pid,
    spawn,
    stop_from_pid_file,
    wait_until,
    write_pid,
)


@dataclass(frozen=True)
class ServiceFiles(ABC):
    """A service's folder, ``root``, and the files rtcsim keeps in it."""

    root: Path
    PID_FILE: ClassVar[str]
    """The pid of the process we launched, relative to ``root``."""
    OUTPUT: ClassVar[str]
    """Its stdout and stderr, relative to ``root``."""

    @property
    def pid_file(self) -> Path:
        return self.root / self.PID_FILE

    @property
    def output(self) -> Path:
        return self.root / self.OUTPUT

    @property
    @abstractmethod
    def process_mark(self) -> str:
        """What the command line of a process in one of our pid files must contain."""

    def running_pid(self, pid_file: Path | None = None) -> int | None:
        """The pid in ``pid_file`` (by default ``self.pid_file``) if it is still the service."""
        return running_pid(pid_file or self.pid_file, self.process_mark)

    def stop(self, pid_file: Path | None = None, *, term_timeout_s: float = 15.0) -> bool:
        """Stop the process in ``pid_file`` (by default ``self.pid_file``) if it is still the
        service, and remove the file; return whether one was running."""
        return stop_from_pid_file(
            pid_file or self.pid_file, self.process_mark, term_timeout_s=term_timeout_s
        )

    def launch(
        self,
        argv: Sequence[str],
        *,
        pid_file: Path | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> ServiceProcess:
        """Spawn ``argv`` with its output appended to ``self.output``; record its pid in
        ``pid_file`` (by default ``self.pid_file``)."""
        proc = spawn(argv, output=self.output, env=env, cwd=cwd)
        write_pid(pid_file or self.pid_file, proc.pid)
        return proc


@dataclass(frozen=True)
class Started:
    """How ``start`` brought a service up."""

    url: str
    pid: int | None  # None: one rtcsim did not start, reused as it is
    reused: bool
    elapsed_s: float


def wait_healthy(
    proc: subprocess.Popen[bytes],
    healthy: Callable[[], bool],
    *,
    timeout_s: float,
    interval_s: float = 0.25,
) -> bool:
    """Poll ``healthy`` until it holds (``True``), ``timeout_s`` passes or ``proc`` exits."""
    return wait_until(
        healthy,
        timeout_s=timeout_s,
        interval_s=interval_s,
        gave_up=lambda: proc.poll() is not None,
    )


def startup_failure(service: str, exited: int | None, awaited: str, timeout_s: float) -> str:
    """Why a start failed: ``service`` exited with code ``exited``, or never did ``awaited``."""
    if exited is not None:
        return f"{service} exited with code {exited}"
    return f"{service} did not {awaited} within {timeout_s:g} s"


def bindable(host: str, port: int) -> bool:
    """Whether a listening socket could take ``host:port`` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True
