"""A cluster of three Elasticsearch nodes on this machine, one of them killed mid-run.

rtcsim starts the three nodes itself (``es_cluster_ports``; small heaps), the template gives
the index one replica (``auto_expand_replicas: 0-1``), and the collector and the readers get
every node's address. While two rooms are live, the node holding the index's primary shard is
SIGKILLed: the replica on another node is promoted and the client sends the next bulks to the
nodes that answer. Nothing is lost and nothing doubled: every document the collector was told
was written is in the index, exactly once, and the run's checks pass.

Own namespaces, ports and nodes: run under the shared lock.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from collector.store import open_client
from rtcsim.pipeline.outcome import RunOutcome
from rtcsim.pipeline.timeline import run_scenario_file
from rtcsim.services import elasticsearch, stack
from rtcsim.services.es_node import nodes
from simulator.settings import Settings

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
]
OWN_STACK = True
PORTS = (9272, 9274, 9276)
KILL_AT_S = 7.0
LAST_KILL_S = 14.0  # the participants leave at 18 s: the kill is always mid-run
SCENARIO = """
name: es-cluster-node-killed
seed: 11
rooms: [{name: north}, {name: south}]
participants:
  - {name: ann, room: north}
  - {name: ben, room: north}
  - {name: cat, room: south}
  - {name: dan, room: south}
timeline:
  - {at: 0.0, do: join, who: all}
  - {at: 0.5, do: publish, who: [ann, cat], audio: true, video: {width: 320, height: 240, fps: 15}}
  - {at: 1.5, do: subscribe, who: ben, to: ann}
  - {at: 1.5, do: subscribe, who: dan, to: cat}
  - {at: 18.0, do: leave, who: all}
"""


@dataclass
class Killed:
    outcome: RunOutcome
    node: str
    port: int
    at_s: float
    settings: Settings


@pytest.fixture(scope="module")
def cluster() -> Iterator[Settings]:
    base_dir = Path(tempfile.mkdtemp(prefix="rtcsescl-"))
    base_dir.chmod(0o755)
    settings = Settings(
        sfu_netns="rtcsescl-sfu",
        client_netns="rtcsescl-cli",
        sfu_veth="rtcsescl-s0",
        client_veth="rtcsescl-c0",
        sfu_address="198.19.13.1",
        client_address="198.19.13.2",
        janus_http_port=8788,
        janus_admin_port=7788,
        collector_events_port=8790,
        collector_api_port=8791,
        es_port=PORTS[0],
        es_cluster_ports=list(PORTS[1:]),
        es_heap_mb=256,
        es_dir=Path("/var/lib/rtcsim/test-cluster"),
        es_index=f"openvidu-cluster-{uuid.uuid4().hex[:8]}",
        monitoring_interval_s=2.0,
        state_dir=base_dir / "state",
        results_dir=base_dir / "results",
    )
    elasticsearch.stop(settings)  # a cluster formed afresh: no data from an earlier session
    for node in nodes(settings):
        shutil.rmtree(node.paths.data, ignore_errors=True)
    try:
        stack.up(settings)
        asyncio.run(_green_index(settings))
        yield settings
    finally:
        stack.down(settings)


async def _green_index(settings: Settings) -> None:
    """The index made before the run (the collector's template applies), with its replica
    started: until then a lost primary is a lost index, on any cluster."""
    async with open_client(settings.es_client_options()) as es:
        await es.indices.create(index=settings.es_index)
        await es.cluster.health(index=settings.es_index, wait_for_status="green", timeout="90s")


async def _cluster_nodes(settings: Settings) -> int:
    async with open_client(settings.es_client_options()) as es:
        return int((await es.cluster.health())["number_of_nodes"])


async def _primary_port(settings: Settings, deadline_s: float) -> int:
    """The HTTP port of the node holding the index's primary, once its replica is started too
    (before that, losing the primary's node loses the index: red, as on any cluster)."""
    async with open_client(settings.es_client_options()) as es:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            shards = await es.options(ignore_status=404).cat.shards(
                index=settings.es_index, format="json"
            )
            rows = shards.body if isinstance(shards.body, list) else []
            started = [s for s in rows if s["state"] == "STARTED"]
            primary = [s for s in started if s["prirep"] == "p"]
            if primary and len(started) == 2:
                return int(str(primary[0]["node"]).removeprefix("rtcsim-"))
            await asyncio.sleep(0.3)
    raise AssertionError(f"index {settings.es_index}: no started primary and replica in time")


@pytest.fixture(scope="module")
def killed(cluster: Settings) -> Killed:
    assert asyncio.run(_cluster_nodes(cluster)) == 3
    path = Path(tempfile.mkdtemp(prefix="rtcsescl-scenario-")) / "scenario.yaml"
    path.write_text(SCENARIO)
    victim: dict[str, Any] = {}

    async def go() -> RunOutcome:
        async def kill() -> None:
            began = time.monotonic()
            port = await _primary_port(cluster, deadline_s=LAST_KILL_S)
            await asyncio.sleep(max(0.0, KILL_AT_S - (time.monotonic() - began)))
            pid = elasticsearch.node_pid(cluster, port)
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            victim.update(port=port, name=f"rtcsim-{port}", at_s=time.monotonic() - began)

        killer = asyncio.create_task(kill())
        outcome = await run_scenario_file(path, cluster, progress=lambda _m: None)
        await killer
        return outcome

    outcome = asyncio.run(go())
    return Killed(outcome, victim["name"], victim["port"], victim["at_s"], cluster)


async def _stats(settings: Settings) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {settings.collector_token}"}
    async with (
        aiohttp.ClientSession(headers=headers) as http,
        http.get(f"{settings.collector_api_url}/stats") as response,
    ):
        body: dict[str, Any] = await response.json()
        return body


async def _written_and_stored(settings: Settings) -> tuple[int, int, int, int]:
    """(documents the collector wrote, pending, write errors, documents in the index)."""
    stats = (await _stats(settings))["documents"]
    async with open_client(settings.es_client_options()) as es:
        await es.indices.refresh(index=settings.es_index)
        stored = int((await es.count(index=settings.es_index))["count"])
    return int(stats["written"]), int(stats["pending"]), int(stats["write_errors"]), stored


def test_the_run_with_a_node_killed_passes_every_check(killed: Killed) -> None:
    assert KILL_AT_S <= killed.at_s < LAST_KILL_S, "the node died while the rooms were live"
    assert killed.outcome.passed, [c for c in killed.outcome.checks if not c.ok]
    assert asyncio.run(_cluster_nodes(killed.settings)) == 2


def test_every_document_the_collector_wrote_is_in_the_index_exactly_once(killed: Killed) -> None:
    """``written`` counts the items Elasticsearch acknowledged; ids are deterministic, so the
    index holds each once. Periodic documents keep coming, so read until both sides meet."""
    seen: list[tuple[int, int, int, int]] = []
    for _ in range(20):
        written, pending, errors, stored = asyncio.run(_written_and_stored(killed.settings))
        seen.append((written, pending, errors, stored))
        if pending == 0 and written == stored:
            break
        time.sleep(0.5)
    written, pending, errors, stored = seen[-1]
    assert errors == 0, seen
    assert written == stored, seen
    session_ids = {s.session_id for s in killed.outcome.ledger.sessions.values()}
    docs = killed.outcome.documents
    assert {d.get("sessionId", d.get("session")) for d in docs if "sessionId" in d} == session_ids


def test_the_replica_on_a_node_left_became_the_primary(killed: Killed) -> None:
    """Its replica waits for the killed node (``index.unassigned.node_left.delayed_timeout``,
    1 min by default) before it is made again on the other node: yellow, never red."""

    async def state() -> tuple[str, list[dict[str, Any]]]:
        async with open_client(killed.settings.es_client_options()) as es:
            health = await es.cluster.health(index=killed.settings.es_index)
            answer = await es.cat.shards(index=killed.settings.es_index, format="json")
            return str(health["status"]), list(answer.body)

    status, copies = asyncio.run(state())
    assert status in ("yellow", "green")
    [primary] = [s for s in copies if s["prirep"] == "p"]
    assert primary["state"] == "STARTED"
    assert primary["node"] != killed.node
