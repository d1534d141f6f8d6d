"""A collector process killed (SIGKILL) right after it answered, restarted on its journal, writes
into the stack's real Elasticsearch the very documents (same ids, same bodies) an uninterrupted
collector writes: nothing it had answered for is lost, nothing already written is overwritten
by an earlier version.

Two rooms: ``short`` closes before the kill (its documents may still be in the killed
collector's memory), ``long`` stays open across it and closes after the restart. Collectors of
their own (``bench.collector_process``: free ports, own index and state folder) on the slot's
Elasticsearch, so no isolated stack is needed. Takes about 15 s (three collector starts)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from elasticsearch import AsyncElasticsearch

from bench.collector_process import BenchCollector, es_client
from simulator.settings import Settings
from tests.collector.model_helpers import RUN
from tests.collector.test_journal_compaction import two_rooms

pytestmark = pytest.mark.integration

Events = list[dict[str, Any]]


@pytest.fixture
def index(running_stack: Settings) -> str:
    return f"rtcsimtest-killed-{uuid.uuid4().hex[:10]}"


def reference_of(index: str) -> str:
    """The uninterrupted collector's index: a name no pattern of ``index``'s template matches
    (two templates may not match one index)."""
    return index.replace("rtcsimtest-killed-", "rtcsimtest-uninterrupted-")


@pytest.fixture
async def es(running_stack: Settings, index: str) -> AsyncIterator[AsyncElasticsearch]:
    client = await es_client(running_stack)
    try:
        yield client
    finally:
        for name in (index, reference_of(index)):
            await client.indices.delete(index=name, ignore_unavailable=True)
            await client.options(ignore_status=404).indices.delete_index_template(
                name=f"{name}-template"
            )
        await client.close()


async def feed(collector: BenchCollector, parts: list[Events], *, register: bool) -> None:
    ep = collector.endpoints
    async with aiohttp.ClientSession() as http:
        if register:
            for room in ("long", "short"):
                body = {"sessionId": room, "runId": RUN}
                headers = {"Authorization": ep.token_auth}
                async with http.post(f"{ep.api_url}/sessions", json=body, headers=headers) as r:
                    assert r.status == 200, await r.text()
        for events in parts:
            headers = {"Authorization": ep.events_auth}
            async with http.post(ep.events_url, json=events, headers=headers) as r:
                assert r.status == 200, await r.text()


async def documents(es: AsyncElasticsearch, index: str) -> dict[str, dict[str, Any]]:
    if not await es.indices.exists(index=index):
        return {}  # nothing written yet
    await es.indices.refresh(index=index)
    found = await es.search(index=index, size=10_000, query={"match_all": {}})
    return {hit["_id"]: hit["_source"] for hit in found["hits"]["hits"]}


async def test_a_killed_collector_restarted_on_its_journal_writes_the_uninterrupted_documents(
    running_stack: Settings, index: str, es: AsyncElasticsearch, tmp_path: Path
) -> None:
    first, middle, last = two_rooms()
    with BenchCollector(running_stack, reference_of(index)) as reference:
        await feed(reference, [first, middle, last], register=True)
    # Stopped with SIGTERM: it drained everything into the reference index.
    expected = await documents(es, reference_of(index))

    killed = BenchCollector(running_stack, index)
    killed.start()
    try:
        await feed(killed, [first, middle], register=True)
        killed.kill()  # at once after its last answer: documents still in its memory
        journal = tmp_path / "journal.ndjson"
        shutil.copy(killed.state_dir / "journal.ndjson", journal)
    finally:
        killed.stop()
    written_before_restart = await documents(es, index)

    with BenchCollector(running_stack, index, journal=journal) as restarted:
        await feed(restarted, [last], register=False)
    found = await documents(es, index)

    assert any(b["elastic_type"] == "sessionSummary" for b in expected.values())
    assert {b["sessionId"] for b in expected.values() if "sessionId" in b} >= {"long", "short"}
    assert len(written_before_restart) < len(expected)  # the kill caught some in memory
    assert found == expected
