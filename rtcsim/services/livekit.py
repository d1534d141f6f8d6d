"""livekit-server, run by rtcsim inside the SFU network namespace (the second media server).

Shaped like the Janus service: a plain child of ``ip netns exec`` (which execs, so the recorded
pid is the server's own), in its own session, with a pid file, its output (LiveKit logs to
stdout) and its generated configuration under ``<state_dir>/livekit``. It is healthy when ``/``
answers ``OK`` from the *client* namespace, the path the peers take (LiveKit answers 406 until
its node statistics are fresh, about a second after start).

The binary is built on first use (``livekit_build``): a start may take minutes once.
"""

from __future__ import annotations

import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from collector.netns import exec_in, listening_socket, namespace_exists
from rtcsim.services import livekit_build, netns
from rtcsim.services.errors import LiveKitError, LiveKitStartupError, PortInUseError
from rtcsim.services.httpcheck import http_get_in_netns
from rtcsim.services.livekit_config import write_config
from rtcsim.services.managed import ServiceFiles, Started, startup_failure, wait_healthy
from rtcsim.services.process import log_tail, wait_until
from rtcsim.services.sockets import listens_on
from simulator.driver.livekit.keys import (
    KeysFileError,
    LiveKitCredentials,
    ensure_credentials,
    load_credentials,
)
from simulator.settings import Settings

START_TIMEOUT_S = 30.0
DRAIN_TIMEOUT_S = 3.0
FORCED_STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class LiveKitPaths(ServiceFiles):
    """Everything LiveKit has under ``<state_dir>/livekit``."""

    PID_FILE = "livekit.pid"
    OUTPUT = "livekit.log"
    """LiveKit logs to stdout and stderr: this is its log."""

    @classmethod
    def from_settings(cls, settings: Settings) -> LiveKitPaths:
        return cls(settings.state_dir / "livekit")

    @property
    def config(self) -> Path:
        return self.root / "livekit.yaml"

    @property
    def process_mark(self) -> str:
        """LiveKit's command line names its configuration file, unique to this state dir."""
        return str(self.config)


@dataclass(frozen=True)
class LiveKitStatus(Started):
    """How ``start`` brought LiveKit up: always one rtcsim started, so ``pid`` is known."""

    pid: int
    api_key: str


def _keys_error(exc: KeysFileError) -> LiveKitError:
    return LiveKitError(
        str(exc), hint="delete the file (and restart LiveKit) to make a new key pair"
    )


def credentials(settings: Settings) -> LiveKitCredentials:
    """The key pair LiveKit of this state dir trusts (for tokens and webhook signatures)."""
    try:
        keys = load_credentials(settings.state_dir)
    except KeysFileError as exc:
        raise _keys_error(exc) from exc
    if keys is None:
        raise LiveKitError(
            f"LiveKit has no key pair in {settings.state_dir / 'livekit'} yet",
            hint="start LiveKit first (it makes the pair)",
        )
    return keys


def pid(settings: Settings) -> int | None:
    """LiveKit's pid if the one rtcsim started (for this state dir) is running."""
    return LiveKitPaths.from_settings(settings).running_pid()


def is_healthy(settings: Settings, *, timeout_s: float = 2.0) -> bool:
    """Whether ``/`` answers ``OK`` from the client namespace."""
    if not namespace_exists(settings.client_netns):
        return False
    answer = http_get_in_netns(
        settings.client_netns, f"{settings.livekit_http_url}/", timeout_s=timeout_s
    )
    return answer.ok and answer.body.strip() == b"OK"


def _check_port_free(settings: Settings, port: int, what: str) -> None:
    try:
        listening_socket(settings.sfu_address, port, settings.sfu_netns).close()
    except OSError as exc:
        raise PortInUseError(
            f"cannot start LiveKit: {what} port {settings.sfu_address}:{port} in namespace "
            f"{settings.sfu_netns} is taken",
            details=str(exc),
            hint=f"stop what listens there (ip netns exec {settings.sfu_netns} ss -lntp) "
            "or choose another port (livekit_port, livekit_prometheus_port)",
        ) from exc


def start(
    settings: Settings, *, timeout_s: float = START_TIMEOUT_S, binary: Path | None = None
) -> LiveKitStatus:
    """Start LiveKit in the SFU namespace, or reuse the one already running with this config.

    The namespaces must exist (``netns.ensure``). Webhooks go to
    ``settings.livekit_webhook_target``; LiveKit retries a webhook that finds nobody listening
    and then drops it, so the receiver should listen first.
    """
    began = time.monotonic()
    if not netns.exists(settings):
        raise LiveKitError(
            f"namespaces {settings.sfu_netns}/{settings.client_netns} do not exist",
            hint="run `rtcsim services up`",
        )
    server = binary or livekit_build.ensure_built(settings)
    paths = LiveKitPaths.from_settings(settings)
    paths.root.mkdir(parents=True, exist_ok=True)
    paths.root.chmod(0o700)  # the key pair and the config with its secret live here
    try:
        keys = ensure_credentials(settings.state_dir)
    except KeysFileError as exc:
        raise _keys_error(exc) from exc
    changed = write_config(settings, keys, paths.config)
    running = pid(settings)
    if running is not None:
        if not changed and wait_until(lambda: is_healthy(settings), timeout_s=timeout_s):
            return LiveKitStatus(
                settings.livekit_url, running, True, time.monotonic() - began, keys.api_key
            )
        stop(settings)  # stale config or wedged

    _check_port_free(settings, settings.livekit_port, "signalling")
    if settings.livekit_prometheus_port:
        _check_port_free(settings, settings.livekit_prometheus_port, "Prometheus")
    if paths.output.exists():
        paths.output.replace(paths.output.with_name("livekit.log.1"))
    argv = [
        *exec_in(settings.sfu_netns),
        str(server), "--config", str(paths.config),
    ]  # fmt: skip
    proc = paths.launch(argv, cwd=paths.root)
    api = (settings.sfu_address, settings.livekit_port)
    # Ours must hold the port: an OK could come from another LiveKit racing for it.
    healthy = wait_healthy(
        proc, lambda: listens_on(proc.pid, *api) and is_healthy(settings), timeout_s=timeout_s
    )
    if not healthy:
        exited = proc.poll()
        _reap(proc)
        paths.pid_file.unlink(missing_ok=True)
        why = startup_failure("LiveKit", exited, f"answer {settings.livekit_http_url}/", timeout_s)
        raise LiveKitStartupError(
            why, details=log_tail(paths.output), hint=f"full log: {paths.output}"
        )
    return LiveKitStatus(
        settings.livekit_url, proc.pid, False, time.monotonic() - began, keys.api_key
    )


def _reap(proc: subprocess.Popen[bytes]) -> None:
    """Stop a LiveKit that never became healthy, so a failed start leaves nothing behind."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def stop(settings: Settings, *, drain_timeout_s: float = DRAIN_TIMEOUT_S) -> bool:
    """Stop the LiveKit rtcsim started for this state dir; return whether one was running.

    A first SIGTERM makes LiveKit drain: it takes no new participant and waits, without limit,
    for those in its rooms to leave (``cmd/server/main.go``, ``LivekitServer.Stop``). A second
    one forces it. So: one SIGTERM, ``drain_timeout_s`` for the rooms to empty, a second
    SIGTERM, then SIGKILL if it still runs.
    """
    paths = LiveKitPaths.from_settings(settings)
    running = paths.running_pid()
    if running is None:
        paths.pid_file.unlink(missing_ok=True)
        return False
    try:
        proc = psutil.Process(running)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=drain_timeout_s)
        except psutil.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)  # the second one: stop now
            try:
                proc.wait(timeout=FORCED_STOP_TIMEOUT_S)
            except psutil.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5.0)
    except psutil.NoSuchProcess:
        pass
    paths.pid_file.unlink(missing_ok=True)
    return True
