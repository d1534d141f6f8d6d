"""One Elasticsearch node rtcsim runs: its folder, its ports and the command that starts it.

rtcsim's Elasticsearch is one node on ``es_port`` or, with ``es_cluster_ports``, a cluster of
several nodes on this machine, each with its own folder, HTTP port and transport port (HTTP +
100). A single node runs with ``discovery.type: single-node``; the nodes of a cluster find
each other on their transport ports and elect a master among themselves (Elasticsearch docs,
"Discovery and cluster formation settings": ``discovery.seed_hosts`` and, for the first start,
``cluster.initial_master_nodes``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rtcsim.services.es_security import security_args
from rtcsim.services.managed import ServiceFiles
from simulator.settings import Settings

TRANSPORT_PORT_OFFSET = 100  # node-to-node port
CLUSTER_NAME = "rtcsim"


@dataclass(frozen=True)
class EsPaths(ServiceFiles):
    """Everything one node rtcsim starts has under one folder (``Settings.es_node_dir``)."""

    PID_FILE = "run/elasticsearch.pid"
    """The server JVM's pid, written by Elasticsearch itself (``-p``)."""
    OUTPUT = "elasticsearch.out"

    @classmethod
    def from_settings(cls, settings: Settings, port: int | None = None) -> EsPaths:
        """The folder of the node on HTTP ``port`` (default: the first node, ``es_port``)."""
        return cls(settings.es_node_dir(settings.es_port if port is None else port))

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
    def certs(self) -> Path:
        """The cluster's CA and node certificate (the first node's folder holds them)."""
        return self.root / "certs"

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
class EsNode:
    """One node of rtcsim's own cluster."""

    http_port: int
    paths: EsPaths

    @property
    def transport_port(self) -> int:
        return self.http_port + TRANSPORT_PORT_OFFSET

    @property
    def name(self) -> str:
        return f"rtcsim-{self.http_port}"


def nodes(settings: Settings) -> list[EsNode]:
    """The nodes rtcsim runs: ``es_port`` first, then ``es_cluster_ports``."""
    ports = [settings.es_port, *settings.es_cluster_ports]
    return [EsNode(port, EsPaths.from_settings(settings, port)) for port in ports]


def transport_port(settings: Settings) -> int:
    return settings.es_port + TRANSPORT_PORT_OFFSET


def node_args(settings: Settings, node: EsNode) -> list[str]:
    """The ``-E`` settings of ``node``: where it listens and stores, how it finds the others."""
    cluster = nodes(settings)
    args = [
        f"-Enode.name={node.name}",
        f"-Enetwork.host={settings.es_host}",
        f"-Ehttp.port={node.http_port}",
        f"-Etransport.port={node.transport_port}",
        "-Expack.ml.enabled=false",
        f"-Epath.data={node.paths.data}",
        f"-Epath.logs={node.paths.logs}",
        f"-Ecluster.name={CLUSTER_NAME}",
        "-Ecluster.routing.allocation.disk.threshold_enabled=false",
    ]
    if len(cluster) == 1:
        args.append("-Ediscovery.type=single-node")
    else:
        seeds = ",".join(f"{settings.es_host}:{n.transport_port}" for n in cluster)
        args += [
            f"-Ediscovery.seed_hosts={seeds}",
            f"-Ecluster.initial_master_nodes={','.join(n.name for n in cluster)}",
        ]
    if settings.es_security:
        args += security_args()
    else:
        args.append("-Expack.security.enabled=false")
    return args
