"""Janus, run by rtcsim inside the SFU network namespace.

Janus runs as a plain child of ``ip netns exec`` (which execs, so the pid we record is Janus's
own), in its own session, with a pid file under ``<state_dir>/janus``. It is healthy when its
``/info`` answers at ``settings.janus_url`` *from the client namespace*: the same path the
peers take, so a healthy Janus is one the simulator can really reach.
"""

from __future__ import annotations

import filecmp
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from collector.netns import exec_in, listening_socket, namespace_exists
from rtcsim.services import netns
from rtcsim.services.errors import JanusError, JanusStartupError, PortInUseError
from rtcsim.services.httpcheck import http_get_in_netns
from rtcsim.services.janus_config import DEBIAN_CONF_DIR, write_config
from rtcsim.services.managed import ServiceFiles, Started, startup_failure, wait_healthy
from rtcsim.services.process import log_tail, wait_until
from rtcsim.services.sockets import listens_on
from simulator.settings import Settings

JANUS_BIN = Path("/usr/bin/janus")
START_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class JanusPaths(ServiceFiles):
    """Everything Janus has under ``<state_dir>/janus``."""

    PID_FILE = "janus.pid"
    OUTPUT = "janus.out"
    """stdout and stderr: where Janus reports errors before its log file is open."""

    @classmethod
    def from_settings(cls, settings: Settings) -> JanusPaths:
        return cls(settings.state_dir / "janus")

    @property
    def conf_dir(self) -> Path:
        return self.root / "conf"

    @property
    def recordings_dir(self) -> Path:
        """Where rooms record (``rec_dir``); Janus refuses /var, /usr and /etc."""
        return self.root / "recordings"

    @property
    def log(self) -> Path:
        return self.root / "janus.log"

    @property
    def process_mark(self) -> str:
        """Janus's command line names its configuration folder, unique to this state dir."""
        return str(self.conf_dir)


@dataclass(frozen=True)
class JanusStatus(Started):
    """How ``start`` brought Janus up: always a Janus rtcsim started, so ``pid`` is known."""

    pid: int


def check_installed(binary: Path = JANUS_BIN) -> Path:
    """Return the Janus binary, or explain how to get it."""
    if not binary.is_file():
        raise JanusError(
            f"Janus is not installed ({binary} is missing)",
            hint="run `make setup` (apt-get install janus janus-tools)",
        )
    return binary


def pid(settings: Settings) -> int | None:
    """Janus's pid if the one rtcsim started (for this state dir) is running."""
    return JanusPaths.from_settings(settings).running_pid()


def is_healthy(settings: Settings, *, timeout_s: float = 2.0) -> bool:
    """Whether ``/info`` answers ``server_info`` from the client namespace."""
    if not namespace_exists(settings.client_netns):
        return False
    answer = http_get_in_netns(
        settings.client_netns, f"{settings.janus_url}/info", timeout_s=timeout_s
    )
    return answer.ok and b'"server_info"' in answer.body


def _check_port_free(settings: Settings, host: str, port: int, what: str) -> None:
    try:
        listening_socket(host, port, settings.sfu_netns).close()
    except OSError as exc:
        raise PortInUseError(
            f"cannot start Janus: {what} port {host}:{port} in namespace "
            f"{settings.sfu_netns} is taken",
            details=str(exc),
            hint=f"stop what listens there (ip netns exec {settings.sfu_netns} ss -lntp) "
            "or choose another port",
        ) from exc


def _failure_details(paths: JanusPaths) -> str:
    return f"{log_tail(paths.log)}\n{log_tail(paths.output)}"


def _prepare_config(settings: Settings, paths: JanusPaths, source_dir: Path) -> bool:
    """Generate the configuration; return whether it differs from the one in place."""
    fresh = paths.root / "conf.new"
    shutil.rmtree(fresh, ignore_errors=True)
    write_config(settings, fresh, paths.recordings_dir, source_dir=source_dir)
    # Rewrite the paths inside as if generated in place, so the comparison is fair.
    main = fresh / "janus.jcfg"
    main.write_text(main.read_text().replace(str(fresh), str(paths.conf_dir)))
    changed = not paths.conf_dir.is_dir() or _differs(fresh, paths.conf_dir)
    if changed:
        shutil.rmtree(paths.conf_dir, ignore_errors=True)
        fresh.rename(paths.conf_dir)
    else:
        shutil.rmtree(fresh)
    paths.conf_dir.chmod(0o700)  # holds the admin secret and the collector's password
    return changed


def _differs(a: Path, b: Path) -> bool:
    names = sorted(p.name for p in a.glob("*.jcfg"))
    if names != sorted(p.name for p in b.glob("*.jcfg")):
        return True
    _, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
    return bool(mismatch or errors)


def start(
    settings: Settings,
    *,
    timeout_s: float = START_TIMEOUT_S,
    binary: Path = JANUS_BIN,
    source_dir: Path = DEBIAN_CONF_DIR,
) -> JanusStatus:
    """Start Janus in the SFU namespace, or reuse the one already running with this config.

    The namespaces must exist (``netns.ensure``) and the collector should already listen,
    otherwise Janus's ``core/started`` event is lost.
    """
    began = time.monotonic()
    check_installed(binary)
    if not netns.exists(settings):
        raise JanusError(
            f"namespaces {settings.sfu_netns}/{settings.client_netns} do not exist",
            hint="run `rtcsim services up`",
        )
    paths = JanusPaths.from_settings(settings)
    paths.root.mkdir(parents=True, exist_ok=True)
    changed = _prepare_config(settings, paths, source_dir)
    running = pid(settings)
    if running is not None:
        if not changed and wait_until(lambda: is_healthy(settings), timeout_s=timeout_s):
            return JanusStatus(settings.janus_url, running, True, time.monotonic() - began)
        paths.stop()  # stale config or wedged

    _check_port_free(settings, settings.sfu_address, settings.janus_http_port, "API")
    _check_port_free(settings, "127.0.0.1", settings.janus_admin_port, "Admin API")
    if paths.log.exists():
        paths.log.replace(paths.log.with_name("janus.log.1"))
    paths.output.write_bytes(b"")
    argv = [
        *exec_in(settings.sfu_netns),
        str(binary),
        "-F", str(paths.conf_dir),
        "-C", str(paths.conf_dir / "janus.jcfg"),
        "-L", str(paths.log),
        "-N",  # no stdout copy of the log; early errors still reach janus.out
        "-o",
    ]  # fmt: skip
    proc = paths.launch(argv, cwd=paths.root)
    api = (settings.sfu_address, settings.janus_http_port)
    # Ours must hold the API port: an /info answer alone could come from another Janus that
    # raced us for the same namespace and port (two runs with the same names).
    healthy = wait_healthy(
        proc, lambda: listens_on(proc.pid, *api) and is_healthy(settings), timeout_s=timeout_s
    )
    if not healthy:
        exited = proc.poll()
        _reap(proc)
        paths.pid_file.unlink(missing_ok=True)
        why = startup_failure("Janus", exited, f"answer {settings.janus_url}/info", timeout_s)
        raise JanusStartupError(
            why,
            details=_failure_details(paths),
            hint=f"full logs: {paths.log} and {paths.output}",
        )
    return JanusStatus(settings.janus_url, proc.pid, False, time.monotonic() - began)


def _reap(proc: subprocess.Popen[bytes]) -> None:
    """Stop a Janus that never became healthy, so a failed start leaves nothing behind."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def stop(settings: Settings) -> bool:
    """Stop the Janus rtcsim started for this state dir; return whether one was running."""
    return JanusPaths.from_settings(settings).stop()
