"""Running commands and background processes, and stopping exactly the ones we started.

Every service we launch gets a pid file under ``state_dir``. Stopping goes through that pid
(SIGTERM, wait, SIGKILL) and first checks that the pid still belongs to the program we launched,
because pids are recycled: a stale pid file must never make us signal someone else's process.
There is deliberately no "kill by name" here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import psutil

from rtcsim.services.errors import CommandError, tail_text

Clock = Callable[[], float]
Sleep = Callable[[float], None]


def run(
    argv: Sequence[str],
    *,
    hint: str | None = None,
    timeout_s: float = 60.0,
    env: Mapping[str, str] | None = None,
) -> str:
    """Run ``argv`` to completion and return its combined output.

    Raises ``CommandError`` (with the output's last lines) when it fails or is missing.
    """
    try:
        done = subprocess.run(
            list(argv),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout_s,
            env=dict(env) if env is not None else None,
            check=False,
        )
    except FileNotFoundError as exc:
        raise CommandError(argv, None, str(exc), hint=hint) from exc
    except subprocess.TimeoutExpired as exc:
        out = exc.output if isinstance(exc.output, str) else ""
        raise CommandError(
            argv, None, f"timed out after {timeout_s:g} s\n{out}", hint=hint
        ) from exc
    if done.returncode != 0:
        raise CommandError(argv, done.returncode, done.stdout, hint=hint)
    return done.stdout


class ServiceProcess(subprocess.Popen[bytes]):
    """A ``Popen`` for a service meant to outlive this object (and this Python process).

    ``Popen.__del__`` warns "subprocess ... is still running" when a live child is collected;
    for a service that is the point, so the warning is switched off. A service that dies while
    we still run stays a zombie until we exit; ``is_running`` counts zombies as dead.
    """

    def __del__(self, *args: object) -> None:
        pass


def spawn(
    argv: Sequence[str],
    *,
    output: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> ServiceProcess:
    """Start ``argv`` in its own session (so a Ctrl-C on our terminal does not reach it).

    Its stdout and stderr are appended to ``output``: the first place to look when a service
    dies before it opens its own log.
    """
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("ab") as sink:
        return ServiceProcess(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=dict(env) if env is not None else None,
            cwd=cwd,
        )


def read_pid(pid_file: Path) -> int | None:
    """The pid recorded in ``pid_file``, or ``None`` when absent or unreadable."""
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def write_pid(pid_file: Path, pid: int) -> None:
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file.write_text(f"{pid}\n")


def is_running(pid: int, expect: str) -> bool:
    """Whether ``pid`` is alive (not a zombie) and its command line mentions ``expect``.

    Matching on the command line guards against pid reuse after a reboot or a crash.
    """
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        cmdline = " ".join(proc.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
    return expect in cmdline or expect in proc.name()


def running_pid(pid_file: Path, expect: str) -> int | None:
    """The pid from ``pid_file`` if that process is alive and is ``expect``; else ``None``."""
    pid = read_pid(pid_file)
    if pid is None or not is_running(pid, expect):
        return None
    return pid


def stop_pid(pid: int, *, term_timeout_s: float = 15.0, kill_timeout_s: float = 5.0) -> None:
    """SIGTERM ``pid``, wait for it, then SIGKILL if it is still there."""
    try:
        proc = psutil.Process(pid)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=term_timeout_s)
    except psutil.NoSuchProcess:
        return
    except psutil.TimeoutExpired:
        try:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=kill_timeout_s)
        except psutil.NoSuchProcess:
            return


def stop_from_pid_file(pid_file: Path, expect: str, *, term_timeout_s: float = 15.0) -> bool:
    """Stop the process recorded in ``pid_file`` if it is still ``expect``; remove the file.

    Returns whether a process was stopped.
    """
    pid = running_pid(pid_file, expect)
    if pid is not None:
        stop_pid(pid, term_timeout_s=term_timeout_s)
    pid_file.unlink(missing_ok=True)
    return pid is not None


def wait_until(
    ready: Callable[[], bool],
    *,
    timeout_s: float,
    interval_s: float = 0.25,
    gave_up: Callable[[], bool] = lambda: False,
    clock: Clock = time.monotonic,
    sleep: Sleep = time.sleep,
) -> bool:
    """Poll ``ready`` until it is true (``True``), the deadline passes or ``gave_up`` (``False``).

    ``gave_up`` lets a caller stop waiting early, e.g. once the process being waited for has died.
    """
    deadline = clock() + timeout_s
    while True:
        if ready():
            return True
        if gave_up() or clock() >= deadline:
            return False
        sleep(interval_s)


def log_tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of a log file, quoted, or a note that it is missing or empty."""
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            text = f.read().decode("utf-8", errors="replace")
    except OSError:
        return f"  ({path} does not exist)"
    if not text.strip():
        return f"  ({path} is empty)"
    return f"last lines of {path}:\n{tail_text(text, lines)}"
