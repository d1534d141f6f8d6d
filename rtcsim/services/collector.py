"""The collector, run as a background process of its own.

It must be listening before Janus starts: Janus's event handler retries an undeliverable event
only twice, so ``core/started`` would be lost (``reference/janus-aiortc.md`` §2). Its event
endpoint lives on 127.0.0.1 inside the SFU namespace (the collector enters it for that one
socket), its API on ``settings.collector_api_host`` in the root namespace.

Configuration goes through the collector's own environment variables (``RTCSIM_COLLECTOR_*``,
declared by ``collector.settings.CollectorSettings``) rather than flags: the names are defined
by that class, and secrets stay out of ``ps`` output. ``launch_command`` is the one place to
change if the collector's interface changes.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rtcsim.services.errors import CollectorStartupError, PortInUseError
from rtcsim.services.httpcheck import http_get
from rtcsim.services.janus import JanusPaths
from rtcsim.services.managed import (
    ServiceFiles,
    Started,
    bindable,
    startup_failure,
    wait_healthy,
)
from rtcsim.services.process import log_tail, wait_until
from simulator.driver.livekit.keys import ensure_credentials, load_credentials
from simulator.settings import Settings

START_TIMEOUT_S = 30.0
COLLECTOR_MODULE = "collector"


@dataclass(frozen=True)
class CollectorPaths(ServiceFiles):
    """The collector's files, in the state dir itself (``root``); its output is its log."""

    PID_FILE = "collector.pid"
    OUTPUT = "collector.log"

    @classmethod
    def from_settings(cls, settings: Settings) -> CollectorPaths:
        return cls(settings.state_dir)

    @property
    def process_mark(self) -> str:
        return COLLECTOR_MODULE

    @property
    def collector_state(self) -> Path:
        """The collector's own folder: its journal of accepted inputs."""
        return self.root / "collector"

    @property
    def spool(self) -> Path:
        """Where documents wait on disk while Elasticsearch is away."""
        return self.collector_state / "spool"


@dataclass(frozen=True)
class CollectorStatus(Started):
    """How ``start`` brought the collector up."""


def launch_command(settings: Settings) -> tuple[list[str], dict[str, str]]:
    """``argv`` and the environment additions that start the collector for ``settings``."""
    argv = [sys.executable, "-m", COLLECTOR_MODULE]
    env = {
        "RTCSIM_COLLECTOR_ES_HOSTS": json.dumps(settings.es_urls),
        "RTCSIM_COLLECTOR_INDEX": settings.es_index,
        "RTCSIM_COLLECTOR_EVENTS_NETNS": settings.sfu_netns,
        "RTCSIM_COLLECTOR_EVENTS_HOST": "127.0.0.1",
        "RTCSIM_COLLECTOR_EVENTS_PORT": str(settings.collector_events_port),
        "RTCSIM_COLLECTOR_EVENTS_USER": settings.collector_events_user,
        "RTCSIM_COLLECTOR_EVENTS_PASSWORD": settings.collector_events_password,
        "RTCSIM_COLLECTOR_API_HOST": settings.collector_api_host,
        "RTCSIM_COLLECTOR_API_PORT": str(settings.collector_api_port),
        "RTCSIM_COLLECTOR_TOKEN": settings.collector_token,
        "RTCSIM_COLLECTOR_WEBRTC_STATS_INTERVAL_S": str(settings.webrtc_stats_interval_s),
        "RTCSIM_COLLECTOR_MONITORING_INTERVAL_S": str(settings.monitoring_interval_s),
        "RTCSIM_COLLECTOR_JANUS_PID_FILE": str(JanusPaths.from_settings(settings).pid_file),
        **_es_auth_env(settings),
        **_livekit_env(settings),
        "RTCSIM_COLLECTOR_STATE_DIR": str(CollectorPaths.from_settings(settings).collector_state),
        "RTCSIM_COLLECTOR_SPOOL_DIR": str(CollectorPaths.from_settings(settings).spool),
    }
    return argv, env


def _livekit_env(settings: Settings) -> dict[str, str]:
    """The stack's LiveKit key pair, which the collector verifies webhooks with (environment,
    never argv); none before it exists (``start`` makes it, so that a collector started before
    LiveKit takes its webhooks all the same)."""
    keys = load_credentials(settings.state_dir)
    if keys is None:
        return {}
    return {
        "RTCSIM_COLLECTOR_LIVEKIT_API_KEY": keys.api_key,
        "RTCSIM_COLLECTOR_LIVEKIT_API_SECRET": keys.api_secret,
    }


def _es_auth_env(settings: Settings) -> dict[str, str]:
    """Elasticsearch credentials and CA bundle, only those set (environment, never argv)."""
    env: dict[str, str] = {}
    if settings.es_user is not None:
        env["RTCSIM_COLLECTOR_ES_USER"] = settings.es_user
    if settings.es_password is not None:
        env["RTCSIM_COLLECTOR_ES_PASSWORD"] = settings.es_password.get_secret_value()
    if settings.es_api_key is not None:
        env["RTCSIM_COLLECTOR_ES_API_KEY"] = settings.es_api_key.get_secret_value()
    if settings.es_ca_file is not None:
        env["RTCSIM_COLLECTOR_ES_CA_CERTS"] = str(settings.es_ca_file)
    return env


def health_url(settings: Settings) -> str:
    return f"{settings.collector_api_url}/health"


def is_healthy(settings: Settings, *, timeout_s: float = 2.0) -> bool:
    return http_get(health_url(settings), timeout_s=timeout_s).ok


def pid(settings: Settings) -> int | None:
    """The pid of the collector rtcsim started for this state dir, if it runs."""
    return CollectorPaths.from_settings(settings).running_pid()


def start(settings: Settings, *, timeout_s: float = START_TIMEOUT_S) -> CollectorStatus:
    """Reuse a healthy collector on the API port, or start one and wait for ``/health``."""
    began = time.monotonic()
    paths = CollectorPaths.from_settings(settings)
    if is_healthy(settings):
        return CollectorStatus(settings.collector_api_url, pid(settings), True, 0.0)
    stop(settings)  # ours but unhealthy: a leftover that must not hold the ports
    if not bindable(settings.collector_api_host, settings.collector_api_port):
        raise PortInUseError(
            f"cannot start the collector: {settings.collector_api_host}:"
            f"{settings.collector_api_port} is taken by something that does not answer "
            f"{health_url(settings)}",
            hint="stop what listens there or set RTCSIM_COLLECTOR_API_PORT",
        )
    ensure_credentials(settings.state_dir)  # LiveKit's, when it starts later: one pair a stack
    argv, extra_env = launch_command(settings)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    with paths.output.open("ab") as log:
        log.write(f"\n--- rtcsim services: starting the collector at {time.ctime()}\n".encode())
    proc = paths.launch(argv, env={**os.environ, **extra_env})
    if not wait_healthy(proc, lambda: is_healthy(settings), timeout_s=timeout_s):
        exited = proc.poll()
        stop(settings)
        why = startup_failure("the collector", exited, f"answer {health_url(settings)}", timeout_s)
        raise CollectorStartupError(
            why, details=log_tail(paths.output), hint=f"full log: {paths.output}"
        )
    return CollectorStatus(settings.collector_api_url, proc.pid, False, time.monotonic() - began)


def kill(settings: Settings) -> bool:
    """SIGKILL the collector rtcsim started for this state dir (fault injection); True if it ran."""
    running = pid(settings)
    if running is None:
        return False
    os.kill(running, signal.SIGKILL)
    wait_until(lambda: pid(settings) is None, timeout_s=5.0)
    return True


def stop(settings: Settings) -> bool:
    """Stop the collector rtcsim started for this state dir; return whether one was running."""
    return CollectorPaths.from_settings(settings).stop()
