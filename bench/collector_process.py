"""A collector process of the benchmarks' own: fresh state, its own ports, a scratch index.

Started exactly as ``rtcsim services up`` starts the stack's collector (same module, same
``RTCSIM_COLLECTOR_*`` environment from ``rtcsim.services.collector.launch_command``, so
journal and spool are on), except that its Janus endpoint listens in the root namespace (the
benchmarks post Janus-shaped events themselves) and periodic documents are off unless asked:
the stack's own collector and its ``openvidu`` index are never touched.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from elasticsearch import AsyncElasticsearch

from collector.store.client import connect
from rtcsim.services.collector import launch_command
from simulator.settings import Settings

STARTUP_TIMEOUT_S = 30.0


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MB (``VmRSS`` of ``/proc/<pid>/status``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds ``pid`` has used (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def runqueue_wait_s(pid: int, proc: Path = Path("/proc")) -> float:
    """Seconds ``pid``'s threads were ready to run but waited for a core (the second field of
    each ``/proc/<pid>/task/<tid>/schedstat``): on a shared machine, what the other processes
    took from it. A thread that ended meanwhile is not counted."""
    total_ns = 0
    for task in (proc / str(pid) / "task").iterdir():
        with contextlib.suppress(OSError, IndexError, ValueError):
            total_ns += int((task / "schedstat").read_text().split()[1])
    return total_ns / 1e9


@dataclass(frozen=True)
class CollectorEndpoints:
    api_url: str
    events_url: str
    events_auth: str
    """The ``Authorization`` header Janus's event handler sends (basic auth)."""
    token_auth: str
    """The ``Authorization`` header the simulator sends (bearer token)."""


class BenchCollector:
    """``with BenchCollector(settings, "rtcsim-bench-x") as c:`` runs one until the block ends."""

    def __init__(
        self,
        settings: Settings,
        index: str,
        *,
        webrtc_stats_interval_s: float = 0.0,
        extra_env: Mapping[str, str] | None = None,
        journal: Path | None = None,
    ) -> None:
        self.settings = settings
        self._journal = journal
        """A journal to start from (copied into the fresh state folder): the collector
        replays it before it answers ``/health``."""
        self.index = index
        self.state_dir = settings.state_dir / "bench" / index
        self._stats_interval_s = webrtc_stats_interval_s
        self._extra_env = dict(extra_env or {})
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        api_port, events_port = free_port(), free_port()
        user, password = settings.collector_events_user, settings.collector_events_password
        basic = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.endpoints = CollectorEndpoints(
            api_url=f"http://127.0.0.1:{api_port}",
            events_url=f"http://127.0.0.1:{events_port}/events",
            events_auth=f"Basic {basic}",
            token_auth=f"Bearer {settings.collector_token}",
        )

    @property
    def pid(self) -> int:
        assert self._proc is not None, "not started"
        return self._proc.pid

    @property
    def log_path(self) -> Path:
        return self.state_dir.parent / f"{self.index}.log"

    def environment(self) -> dict[str, str]:
        argv, env = launch_command(self.settings)
        del argv
        env.pop("RTCSIM_COLLECTOR_EVENTS_NETNS", None)
        env.pop("RTCSIM_COLLECTOR_JANUS_PID_FILE", None)
        api_port = self.endpoints.api_url.rsplit(":", 1)[1]
        events_port = self.endpoints.events_url.rsplit(":", 1)[1].split("/", 1)[0]
        env.update(
            {
                "RTCSIM_COLLECTOR_INDEX": self.index,
                "RTCSIM_COLLECTOR_API_PORT": api_port,
                "RTCSIM_COLLECTOR_EVENTS_PORT": events_port,
                "RTCSIM_COLLECTOR_STATE_DIR": str(self.state_dir),
                "RTCSIM_COLLECTOR_SPOOL_DIR": str(self.state_dir / "spool"),
                "RTCSIM_COLLECTOR_MONITORING_INTERVAL_S": "0",
                "RTCSIM_COLLECTOR_WEBRTC_STATS_INTERVAL_S": str(self._stats_interval_s),
                "RTCSIM_COLLECTOR_LOG_LEVEL": "WARNING",
                **self._extra_env,
            }
        )
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("RTCSIM_COLLECTOR_")}
        return {**inherited, **env}

    def start(self) -> None:
        shutil.rmtree(self.state_dir, ignore_errors=True)
        self.state_dir.mkdir(parents=True)
        if self._journal is not None:
            shutil.copy(self._journal, self.state_dir / "journal.ndjson")
        argv, _ = launch_command(self.settings)
        self._log = self.log_path.open("wb")
        self._proc = subprocess.Popen(
            argv, env=self.environment(), stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"bench collector exited with {self._proc.returncode}: "
                    + self.log_path.read_text(errors="replace")[-800:]
                )
            try:
                with urllib.request.urlopen(f"{self.endpoints.api_url}/health", timeout=1) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"bench collector did not answer within {STARTUP_TIMEOUT_S:g} s")

    def kill(self) -> None:
        """SIGKILL, as a crash would: nothing is drained, the state folder stays as it is."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()

    def stop(self) -> None:
        """SIGTERM (the collector flushes on the way out), then SIGKILL after 20 s."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        shutil.rmtree(self.state_dir, ignore_errors=True)

    def __enter__(self) -> BenchCollector:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


async def es_client(settings: Settings) -> AsyncElasticsearch:
    """A client for the bench's cluster, speaking its major (``collector.store.client``)."""
    return (await connect(settings.es_client_options(request_timeout_s=60))).client


async def drop_scratch(es: AsyncElasticsearch, index: str, *others: str) -> None:
    """Delete ``index`` and ``others`` (by name: wildcard deletes are refused) and the template
    the bench collector installed for ``index``."""
    for name in (index, *others):
        await es.options(ignore_status=404).indices.delete(index=name)
    await es.options(ignore_status=404).indices.delete_index_template(name=f"{index}-template")


async def count(es: AsyncElasticsearch, index: str, *, refresh: bool = True) -> int:
    """Documents searchable in ``index`` (after a refresh, so the answer is not ~1 s stale)."""
    if refresh:
        await es.options(ignore_status=404).indices.refresh(index=index)
    response: Any = await es.options(ignore_status=404).count(index=index)
    return int(response.get("count", 0))
