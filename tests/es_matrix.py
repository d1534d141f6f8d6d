"""The Elasticsearch versions the suite runs against, one node each, started by the tests.

One node per supported major (``collector.store.client.TESTED_VERSIONS``), each on a port of
its own next to the suite's ``es_port`` (``es_port`` + the major: 9207, 9208, 9209 with the
defaults; the slot's own range on a developer's machine), with a small heap and its own folder.
A node is started on first use and stopped when the session ends; the zips stay cached
(Maven's ~/.m2, unpacked in ``cache_dir``, ~/.cache/rtcsim), so a second session only pays the
start (~20 s on 2 cores). The node of the stack's own major is the stack's node.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from collector.store.client import TESTED_VERSIONS, ServerVersion
from rtcsim.services import elasticsearch
from simulator.settings import Settings

HEAP_MB = 256
SECURED_MAJOR = 8  # the major most OpenVidu Pro deployments run
SECURED_PORT_OFFSET = 5
SECURED_USER = "rtcsim-writer"
SECURED_PASSWORD = "rtcsim-Tls-7q2w"  # a test node's own user, in its file realm
MAJORS = tuple(ServerVersion.parse(v).major for v in TESTED_VERSIONS)


def version_of(major: int) -> str:
    return next(v for v in TESTED_VERSIONS if ServerVersion.parse(v).major == major)


def is_stack_major(base: Settings, major: int) -> bool:
    """Whether the stack's own node already is this major (then the tests use that node)."""
    return not base.es_hosts and ServerVersion.parse(base.es_version).major == major


def node_settings(base: Settings, major: int) -> Settings:
    """Settings aimed at the suite's node of ``major``: the stack's, or one of its own."""
    if is_stack_major(base, major):
        return base
    port = base.es_port + major
    return base.model_copy(
        update={
            "es_version": version_of(major),
            "es_port": port,
            "es_cluster_ports": [],
            "es_heap_mb": HEAP_MB,
            "es_dir": Path("/var/lib/rtcsim") / f"test-es-{port}",
        }
    )


def secured_settings(base: Settings) -> Settings:
    """A node of its own with X-Pack security: TLS with rtcsim's CA, a file-realm user."""
    port = base.es_port + SECURED_PORT_OFFSET
    return base.model_copy(
        update={
            "es_version": version_of(SECURED_MAJOR),
            "es_port": port,
            "es_cluster_ports": [],
            "es_heap_mb": HEAP_MB,
            "es_dir": Path("/var/lib/rtcsim") / f"test-es-secured-{port}",
            "es_scheme": "https",
            "es_security": True,
            "es_user": SECURED_USER,
            "es_password": SecretStr(SECURED_PASSWORD),
            "es_api_key": None,
            "es_ca_certs": None,
        }
    )


class Nodes:
    """The nodes this session started, stopped at its end."""

    def __init__(self, base: Settings) -> None:
        self.base = base
        self.started: dict[int, Settings] = {}

    def get(self, major: int) -> Settings:
        settings = node_settings(self.base, major)
        if major not in self.started:
            status = elasticsearch.start(settings)
            if not status.reused:
                self.started[major] = settings
        return settings

    def secured(self) -> Settings:
        """The secured node (``secured_settings``), started on first use."""
        settings = secured_settings(self.base)
        if -1 not in self.started:
            status = elasticsearch.start(settings)
            if not status.reused:
                self.started[-1] = settings
        return settings

    def stop_all(self) -> None:
        for settings in self.started.values():
            if settings is not self.base:
                elasticsearch.stop(settings)
        self.started.clear()
