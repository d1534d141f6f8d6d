"""A single Elasticsearch node on 127.0.0.1, started and stopped by rtcsim.

Any Elasticsearch already answering on ``settings.es_port`` is reused as it is (a developer's
own node, or one from an earlier ``up``), and only a node rtcsim started itself is ever stopped.
Health means ``GET /_cluster/health?wait_for_status=yellow`` answers with the
``X-Elastic-Product: Elasticsearch`` header: the minimal distribution answers ``GET /`` with
405, and the header tells a real node from some other server holding the port.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from rtcsim.services import es_install
from rtcsim.services.errors import ElasticsearchStartupError, PortInUseError
from rtcsim.services.httpcheck import http_get
from rtcsim.services.jdk import JVM_ROOT, select_jdk
from rtcsim.services.managed import (
    ServiceFiles,
    Started,
    bindable,
    startup_failure,
    wait_healthy,
)
from rtcsim.services.process import log_tail, read_pid, stop_pid, wait_until
from simulator.settings import Settings

START_TIMEOUT_S = 120.0  # measured cold start ~20 s on 2 cores; leave room for a slow disk
TRANSPORT_PORT_OFFSET = 100  # node-to-node port; single node, but it still binds one
CLUSTER_NAME = "rtcsim"


class EsPort(Enum):
    """What is on the Elasticsearch port."""

    ELASTICSEARCH = "elasticsearch"
    FREE = "free"
    OTHER = "other"


@dataclass(frozen=True)
class EsPaths(ServiceFiles):
    """Everything the node rtcsim starts has under one folder (``settings.es_dir``).

    Not under the project's state dir: Elasticsearch runs as its own user, who may not be able
    to reach a checkout (CI may clone under /root, mode 0700). One node per port per machine,
    so the default folder is named by the port.
    """

    PID_FILE = "run/elasticsearch.pid"
    """The server JVM's pid, written by Elasticsearch itself (``-p``)."""
    OUTPUT = "elasticsearch.out"

    @classmethod
    def from_settings(cls, settings: Settings) -> EsPaths:
        default = Path("/var/lib/rtcsim") / f"elasticsearch-{settings.es_port}"
        return cls(settings.es_dir or default)

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def server_log(self) -> Path:
        return self.logs / f"{CLUSTER_NAME}.log"

    @property
    def launcher_pid_file(self) -> Path:
        """The launcher (``bin/elasticsearch``) we spawned; it is the server's parent."""
        return self.root / "launcher.pid"

    @property
    def process_mark(self) -> str:
        """The server's and the launcher's command lines name the node's home."""
        return str(self.home)


@dataclass(frozen=True)
class EsStatus(Started):
    """How ``start`` brought the node up, and the cluster status it reached."""

    cluster_status: str


def transport_port(settings: Settings) -> int:
    return settings.es_port + TRANSPORT_PORT_OFFSET


def cluster_health(settings: Settings, *, timeout_s: float = 3.0) -> str | None:
    """``green``/``yellow`` when a real Elasticsearch node is at least yellow, else ``None``."""
    answer = http_get(
        f"{settings.es_url}/_cluster/health?wait_for_status=yellow&timeout=1s",
        timeout_s=timeout_s,
    )
    if not answer.ok or answer.headers.get("x-elastic-product") != "Elasticsearch":
        return None
    for status in ("green", "yellow"):
        if f'"status":"{status}"'.encode() in answer.body:
            return status
    return None


def probe_port(settings: Settings) -> EsPort:
    """Whether the port holds Elasticsearch, nothing, or something else."""
    answer = http_get(f"{settings.es_url}/", timeout_s=3.0)
    if answer.status:
        product = answer.headers.get("x-elastic-product")
        return EsPort.ELASTICSEARCH if product == "Elasticsearch" else EsPort.OTHER
    return EsPort.FREE if bindable(settings.es_host, settings.es_port) else EsPort.OTHER


def pid(settings: Settings) -> int | None:
    """The server pid of the node rtcsim started for this state dir, if it is running."""
    paths = EsPaths.from_settings(settings)
    return paths.running_pid() or paths.running_pid(paths.launcher_pid_file)


def _port_taken(settings: Settings, port: int, what: str) -> PortInUseError:
    return PortInUseError(
        f"cannot start Elasticsearch: {what} port {settings.es_host}:{port} is taken by "
        "something that is not Elasticsearch",
        hint=f"see what holds it (ss -lntp 'sport = :{port}') or set RTCSIM_ES_PORT",
    )


def start(
    settings: Settings,
    *,
    timeout_s: float = START_TIMEOUT_S,
    jvm_root: Path = JVM_ROOT,
    maven_repository: Path | None = None,
) -> EsStatus:
    """Reuse the Elasticsearch on the port, or fetch, install and start one and wait for yellow."""
    began = time.monotonic()
    paths = EsPaths.from_settings(settings)

    def ready(reused: bool, pid_: int | None) -> EsStatus:
        status = cluster_health(settings) or "unknown"
        return EsStatus(settings.es_url, pid_, reused, time.monotonic() - began, status)

    port = probe_port(settings)
    if port is EsPort.OTHER:
        raise _port_taken(settings, settings.es_port, "HTTP")
    if port is EsPort.ELASTICSEARCH:
        if wait_until(lambda: cluster_health(settings) is not None, timeout_s=timeout_s):
            return ready(True, pid(settings))
        raise ElasticsearchStartupError(
            f"the Elasticsearch at {settings.es_url} never reached yellow",
            details=log_tail(paths.server_log),
        )
    if pid(settings) is not None:  # ours, but not answering: a leftover from a crashed run
        stop(settings)
    if not bindable(settings.es_host, transport_port(settings)):
        raise _port_taken(settings, transport_port(settings), "transport")

    jdk = select_jdk(jvm_root)
    zip_path = es_install.fetch_zip(settings.es_version, repository=maven_repository)
    unpacked = es_install.unpack(
        zip_path, settings.cache_dir / f"elasticsearch-{settings.es_version}"
    )
    user = es_install.ensure_os_user(settings.es_os_user)
    for folder in (paths.root, paths.data, paths.logs, paths.pid_file.parent):
        folder.mkdir(parents=True, exist_ok=True)
        os.chown(folder, user.pw_uid, user.pw_gid)
    home = es_install.install_home(unpacked, paths.home, user)
    es_install.check_reachable(home / "bin", settings.es_os_user)

    argv = [
        "setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups",
        str(home / "bin" / "elasticsearch"),
        "-p", str(paths.pid_file),
        "-Ediscovery.type=single-node",
        f"-Enetwork.host={settings.es_host}",
        f"-Ehttp.port={settings.es_port}",
        f"-Etransport.port={transport_port(settings)}",
        "-Expack.security.enabled=false",
        "-Expack.ml.enabled=false",
        f"-Epath.data={paths.data}",
        f"-Epath.logs={paths.logs}",
        f"-Ecluster.name={CLUSTER_NAME}",
        "-Ecluster.routing.allocation.disk.threshold_enabled=false",
    ]  # fmt: skip
    env = {
        "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
        "HOME": str(paths.root),  # the JVM looks for ~/.java; /root is not readable
        "LANG": "C.UTF-8",
        "ES_JAVA_HOME": str(jdk.home),
        "ES_JAVA_OPTS": f"-Xms{settings.es_heap_mb}m -Xmx{settings.es_heap_mb}m",
    }
    paths.pid_file.unlink(missing_ok=True)
    paths.output.write_bytes(b"")
    proc = paths.launch(argv, pid_file=paths.launcher_pid_file, env=env, cwd=paths.root)
    healthy = wait_healthy(
        proc, lambda: cluster_health(settings) is not None, timeout_s=timeout_s, interval_s=0.5
    )
    if not healthy:
        exited = proc.poll()
        stop(settings)
        _reap(proc)
        why = startup_failure(
            "Elasticsearch", exited, f"reach yellow at {settings.es_url}", timeout_s
        )
        raise ElasticsearchStartupError(
            why,
            details=_failure_details(paths),
            hint=f"full logs: {paths.logs} and {paths.output}",
        )
    return ready(False, read_pid(paths.pid_file) or proc.pid)


def _failure_details(paths: EsPaths) -> str:
    """The server log's tail, plus the launcher's output when it says something else.

    In the foreground the launcher echoes the server log, but JVM and launcher errors (a bad
    JDK, a bad setting) only reach its output.
    """
    server = log_tail(paths.server_log)
    output = log_tail(paths.output, 10)
    last_output = output.rstrip().rsplit("\n", 1)[-1].removeprefix("  | ")
    return server if paths.server_log.exists() and last_output in server else f"{server}\n{output}"


def _reap(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        stop_pid(proc.pid)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(5)


def stop(settings: Settings) -> bool:
    """Stop the node rtcsim started for this state dir (never one it merely reused).

    The server JVM gets SIGTERM first (it flushes and exits cleanly); the launcher then exits
    on its own, and is stopped too if it lingers.
    """
    paths = EsPaths.from_settings(settings)
    stopped = paths.stop(term_timeout_s=30.0)
    stopped |= paths.stop(paths.launcher_pid_file, term_timeout_s=10.0)
    return stopped
