"""rtcsim's Elasticsearch: one node, or a cluster of several, on this machine; or a cluster
it does not run at all.

Any Elasticsearch already answering on a node's port is reused as it is (a developer's own
node, or one from an earlier ``up``), and only a node rtcsim started itself is ever stopped.
With ``es_hosts`` set the cluster is someone else's: rtcsim starts and stops nothing, it only
waits for it to answer. Health means ``GET /_cluster/health?wait_for_status=yellow`` answers
with the ``X-Elastic-Product: Elasticsearch`` header: the minimal distribution answers ``GET /``
with 405, and the header tells a real node from some other server holding the port.

The nodes of a cluster are all launched before any is waited for: a cluster forms once a
majority of its master-eligible nodes is up, so waiting for the first alone would never end.
"""

from __future__ import annotations

import base64
import contextlib
import os
import ssl
import subprocess
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from collector.store.client import ServerVersion
from rtcsim.services import es_install, es_security
from rtcsim.services.errors import ElasticsearchStartupError, PortInUseError
from rtcsim.services.es_node import (
    CLUSTER_NAME,
    EsNode,
    EsPaths,
    node_args,
    nodes,
    transport_port,
)
from rtcsim.services.httpcheck import HttpAnswer, http_get
from rtcsim.services.jdk import JVM_ROOT, Jdk, jdk_for_elasticsearch
from rtcsim.services.managed import Started, bindable, startup_failure
from rtcsim.services.process import ServiceProcess, log_tail, read_pid, stop_pid, wait_until
from simulator.settings import Settings

__all__ = [
    "CLUSTER_NAME",
    "EsPaths",
    "EsPort",
    "EsStatus",
    "cluster_health",
    "pid",
    "probe_port",
    "start",
    "stop",
    "transport_port",
]

START_TIMEOUT_S = 120.0  # measured cold start ~20 s on 2 cores; leave room for a slow disk


class EsPort(Enum):
    """What is on the Elasticsearch port."""

    ELASTICSEARCH = "elasticsearch"
    FREE = "free"
    OTHER = "other"


@dataclass(frozen=True)
class EsStatus(Started):
    """How ``start`` brought the node up, and the cluster status it reached."""

    cluster_status: str


def _auth_headers(settings: Settings) -> dict[str, str]:
    """The credentials every client sends, for the health checks too (security on)."""
    if settings.es_api_key is not None:
        return {"Authorization": f"ApiKey {settings.es_api_key.get_secret_value()}"}
    if settings.es_user is not None:
        password = settings.es_password.get_secret_value() if settings.es_password else ""
        token = base64.b64encode(f"{settings.es_user}:{password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}
    return {}


def _ssl_context(settings: Settings) -> ssl.SSLContext | None:
    if settings.es_scheme != "https" and not any(h.startswith("https:") for h in settings.es_hosts):
        return None
    ca = settings.es_ca_file
    return ssl.create_default_context(cafile=str(ca) if ca is not None and ca.is_file() else None)


def _get(settings: Settings, url: str, *, timeout_s: float) -> HttpAnswer:
    return http_get(
        url,
        timeout_s=timeout_s,
        headers=_auth_headers(settings),
        ssl_context=_ssl_context(settings),
    )


def _node_url(settings: Settings, port: int) -> str:
    return f"{settings.es_scheme}://{settings.es_host}:{port}"


def cluster_health(
    settings: Settings, *, url: str | None = None, nodes_: int = 0, timeout_s: float = 3.0
) -> str | None:
    """``green``/``yellow`` when a real Elasticsearch (with at least ``nodes_`` nodes) is at
    least yellow, asked at ``url`` (default: the first node), else ``None``."""
    wait_nodes = f"&wait_for_nodes=>={nodes_}" if nodes_ > 1 else ""
    answer = _get(
        settings,
        f"{url or settings.es_url}/_cluster/health?wait_for_status=yellow&timeout=1s{wait_nodes}",
        timeout_s=timeout_s,
    )
    if not answer.ok or answer.headers.get("x-elastic-product") != "Elasticsearch":
        return None
    for status in ("green", "yellow"):
        if f'"status":"{status}"'.encode() in answer.body:
            return status
    return None


def probe_port(settings: Settings, port: int | None = None) -> EsPort:
    """Whether the port (default ``es_port``) holds Elasticsearch, nothing, or something else."""
    port = settings.es_port if port is None else port
    answer = _get(settings, f"{_node_url(settings, port)}/", timeout_s=3.0)
    if answer.status:
        product = answer.headers.get("x-elastic-product")
        return EsPort.ELASTICSEARCH if product == "Elasticsearch" else EsPort.OTHER
    return EsPort.FREE if bindable(settings.es_host, port) else EsPort.OTHER


def _node_pid(node: EsNode) -> int | None:
    return node.paths.running_pid() or node.paths.running_pid(node.paths.launcher_pid_file)


def pid(settings: Settings) -> int | None:
    """The server pid of the first node rtcsim started for these settings, if it is running."""
    return _node_pid(nodes(settings)[0])


def node_pid(settings: Settings, port: int) -> int | None:
    """The server JVM's pid of rtcsim's node on HTTP ``port``, if it is running."""
    node = next((n for n in nodes(settings) if n.http_port == port), None)
    return node.paths.running_pid() if node is not None else None


def _port_taken(settings: Settings, port: int, what: str) -> PortInUseError:
    return PortInUseError(
        f"cannot start Elasticsearch: {what} port {settings.es_host}:{port} is taken by "
        "something that is not Elasticsearch",
        hint=f"see what holds it (ss -lntp 'sport = :{port}') or set RTCSIM_ES_PORT",
    )


def _external(settings: Settings, timeout_s: float, began: float) -> EsStatus:
    """A cluster rtcsim does not run: wait until one of its nodes answers, start nothing."""
    status: str | None = None

    def answered() -> bool:
        nonlocal status
        status = next(
            (s for url in settings.es_hosts if (s := cluster_health(settings, url=url))), None
        )
        return status is not None

    if not wait_until(answered, timeout_s=timeout_s):
        raise ElasticsearchStartupError(
            f"the Elasticsearch at {', '.join(settings.es_hosts)} never reached yellow",
            hint="es_hosts names a cluster rtcsim does not run: check that it is up and that "
            "es_user/es_password or es_api_key and es_ca_certs are right",
        )
    return EsStatus(settings.es_url, None, True, time.monotonic() - began, status or "unknown")


def start(
    settings: Settings,
    *,
    timeout_s: float = START_TIMEOUT_S,
    jvm_root: Path = JVM_ROOT,
    maven_repository: Path | None = None,
) -> EsStatus:
    """Reuse the Elasticsearch on the ports, or fetch, install and start the missing nodes
    and wait for the cluster (every node) to be yellow."""
    began = time.monotonic()
    if settings.es_hosts:
        return _external(settings, timeout_s, began)
    cluster = nodes(settings)
    missing: list[EsNode] = []
    for node in cluster:
        port = probe_port(settings, node.http_port)
        if port is EsPort.OTHER:
            raise _port_taken(settings, node.http_port, "HTTP")
        if port is EsPort.ELASTICSEARCH:
            continue
        if _node_pid(node) is not None:  # ours, but not answering: a leftover from a crash
            _stop_node(node)
        if not bindable(settings.es_host, node.transport_port):
            raise _port_taken(settings, node.transport_port, "transport")
        missing.append(node)

    launched: list[tuple[EsNode, ServiceProcess]] = []
    if missing:
        jdk = jdk_for_elasticsearch(ServerVersion.parse(settings.es_version).major, jvm_root)
        zip_path = es_install.fetch_zip(settings.es_version, repository=maven_repository)
        unpacked = es_install.unpack(
            zip_path, settings.cache_dir / f"elasticsearch-{settings.es_version}"
        )
        for node in missing:
            launched.append((node, _launch(settings, node, jdk, unpacked)))

    def healthy() -> bool:
        return all(
            cluster_health(settings, url=_node_url(settings, n.http_port), nodes_=len(cluster))
            for n in cluster
        )

    def gave_up() -> bool:
        return any(proc.poll() is not None for _node, proc in launched)

    if not wait_until(healthy, timeout_s=timeout_s, interval_s=0.5, gave_up=gave_up):
        failed = next(((n, p) for n, p in launched if p.poll() is not None), None)
        if not launched:
            raise ElasticsearchStartupError(
                f"the Elasticsearch at {settings.es_url} never reached yellow",
                details=log_tail(cluster[0].paths.server_log),
            )
        node, proc = failed or launched[0]
        exited = proc.poll()
        for n, p in launched:
            _stop_node(n)
            _reap(p)
        why = startup_failure(
            f"Elasticsearch node {node.name}",
            exited,
            f"reach yellow at {_node_url(settings, node.http_port)}"
            + (f" in a cluster of {len(cluster)}" if len(cluster) > 1 else ""),
            timeout_s,
        )
        raise ElasticsearchStartupError(
            why,
            details=_failure_details(node.paths),
            hint=f"full logs: {node.paths.logs} and {node.paths.output}",
        )
    status = cluster_health(settings) or "unknown"
    first = cluster[0]
    first_pid = next((read_pid(n.paths.pid_file) or p.pid for n, p in launched if n == first), None)
    return EsStatus(
        settings.es_url,
        first_pid if first_pid is not None else _node_pid(first),
        not launched,
        time.monotonic() - began,
        status,
    )


def _launch(settings: Settings, node: EsNode, jdk: Jdk, unpacked: Path) -> ServiceProcess:
    """Install ``node``'s home (certificates and user too, with security) and spawn it."""
    paths = node.paths
    user = es_install.ensure_os_user(settings.es_os_user)
    for folder in (paths.root, paths.data, paths.logs, paths.pid_file.parent):
        folder.mkdir(parents=True, exist_ok=True)
        os.chown(folder, user.pw_uid, user.pw_gid)
    home = es_install.install_home(unpacked, paths.home, user)
    es_install.check_reachable(home / "bin", settings.es_os_user)
    if settings.es_security:
        first = nodes(settings)[0]
        certs = es_security.make_certificates(first.paths.certs, settings.es_host)
        es_security.install_certificates(certs, home / "config", user)
        password = settings.es_password.get_secret_value() if settings.es_password else ""
        es_security.add_user(
            home,
            settings.es_os_user,
            jdk.home,
            settings.es_user or "",
            password,
            es_security.SUPERUSER_ROLE,
        )
    argv = [
        "setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups",
        str(home / "bin" / "elasticsearch"),
        "-p", str(paths.pid_file),
        *node_args(settings, node),
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
    return paths.launch(argv, pid_file=paths.launcher_pid_file, env=env, cwd=paths.root)


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


def _stop_node(node: EsNode) -> bool:
    """SIGTERM the server JVM first (it flushes and exits cleanly); the launcher then exits
    on its own, and is stopped too if it lingers."""
    stopped = node.paths.stop(term_timeout_s=30.0)
    stopped |= node.paths.stop(node.paths.launcher_pid_file, term_timeout_s=10.0)
    return stopped


def stop(settings: Settings) -> bool:
    """Stop the nodes rtcsim started for these settings (never one it merely reused, nor a
    cluster named by ``es_hosts``)."""
    if settings.es_hosts:
        return False
    stopped = False
    for node in reversed(nodes(settings)):
        stopped |= _stop_node(node)
    return stopped
