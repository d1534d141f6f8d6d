"""Per-session compaction: a closed session's inputs leave the journal once its documents are
stored, an open one's stay (with only the latest stats of each m-line), and a collector
restarted on the compacted journal writes the same documents, with the same ids."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from collector.app import COLLECTOR, create_app
from collector.app.ticks import compact_tick
from collector.clock import FixedClock
from collector.store import MemoryStore, WriteResult
from tests.collector.janus_sequences import Janus
from tests.collector.model_helpers import RUN
from tests.collector.test_journal import AUTH, settings

Events = list[dict[str, Any]]


def two_rooms() -> tuple[Events, Events, Events]:
    """Room ``short`` opens and closes while room ``long`` stays open (with a second of media
    stats after another); then ``long`` closes."""
    j = Janus()
    j.create_room("long", 0)
    j.join("alice", "long", 10)
    j.publish("alice", "long", 20)
    j.join("bob", "long", 30)
    j.subscribe("bob", "long", "alice", 40)
    j.create_room("short", 100)
    j.join("carol", "short", 110)
    j.publish("carol", "short", 120)
    for second in range(1, 4):
        j.publisher_stats("alice", 1_000 * second)
        j.subscriber_stats("bob", "alice", 1_000 * second)
        j.publisher_stats("carol", 1_000 * second + 1)
    j.clean_leave("carol", "short", 4_000)
    first = len(j.events)
    for second in range(4, 8):
        j.publisher_stats("alice", 1_000 * second)
        j.subscriber_stats("bob", "alice", 1_000 * second)
    second_part = len(j.events)
    j.clean_leave("bob", "long", 9_000, publishing=False)
    j.clean_leave("alice", "long", 9_500)
    return j.events[:first], j.events[first:second_part], j.events[second_part:]


async def register(client: TestClient[Any, Any]) -> None:
    for room in ("long", "short"):
        body = {"sessionId": room, "runId": RUN}
        assert (await client.post("/sessions", json=body, headers=AUTH)).status == 200


async def test_a_restart_on_a_compacted_journal_writes_the_documents_of_an_uninterrupted_run(
    tmp_path: Path,
) -> None:
    first, middle, last = two_rooms()
    reference = MemoryStore()
    app = create_app(settings(None), reference, FixedClock())
    async with TestClient(TestServer(app)) as client:
        await register(client)
        for part in (first, middle, last):
            assert (await client.post("/events", json=part)).status == 200
        await client.app[COLLECTOR].writer.flush()

    before = MemoryStore()
    app = create_app(settings(tmp_path), before, FixedClock())
    async with TestClient(TestServer(app)) as client:
        c = client.app[COLLECTOR]
        await register(client)
        await client.post("/events", json=first)
        await client.post("/events", json=middle)
        await c.writer.flush()
        assert c.journal is not None
        size = c.journal.bytes
        assert compact_tick(c, min_dead_bytes=0)
        assert c.journal.bytes < size  # "short" and the superseded stats are gone
        kept = list(c.journal.entries())
    assert not any('"short"' in str(body) for _, _, body in kept)

    after = MemoryStore()  # what the restarted collector writes
    app = create_app(settings(tmp_path), after, FixedClock())
    async with TestClient(TestServer(app)) as client:
        assert (await client.post("/events", json=last)).status == 200
        await client.app[COLLECTOR].writer.flush()
    assert set(before.docs) | set(after.docs) == set(reference.docs)
    for doc_id, body in after.docs.items():
        assert reference.docs[doc_id] == body  # same id, same document
    long_ids = {i for i, b in reference.docs.items() if b.get("sessionId") == "long"}
    assert long_ids - set(before.docs) <= set(after.docs)
    assert not any(b.get("sessionId") == "short" for b in after.docs.values())
    assert await after.count({"elastic_type": "sessionSummary"}) == 1


async def test_an_open_session_keeps_its_lifecycle_and_the_latest_stats_of_each_m_line(
    tmp_path: Path,
) -> None:
    j = Janus()
    j.create_room("long", 0)
    j.join("alice", "long", 10)
    j.publish("alice", "long", 20)
    lifecycle = len(j.events)
    app = create_app(settings(tmp_path), MemoryStore(), FixedClock())
    async with TestClient(TestServer(app)) as client:
        c = client.app[COLLECTOR]
        await client.post("/events", json=j.events)
        for second in range(1, 200):
            j.events.clear()
            j.publisher_stats("alice", 1_000 * second)
            await client.post("/events", json=j.events)
        await c.writer.flush()
        compact_tick(c, min_dead_bytes=0)
        assert c.journal is not None
        kept = list(c.journal.entries())
    # The first stats of each m-line made documents (media flowing): kept with the latest.
    assert lifecycle <= len(kept) <= lifecycle + 2 * 2


async def test_client_stats_leave_the_journal_once_their_documents_are_stored(
    tmp_path: Path,
) -> None:
    app = create_app(settings(tmp_path), MemoryStore(), FixedClock())
    async with TestClient(TestServer(app)) as client:
        c = client.app[COLLECTOR]
        await register(client)
        sample = {
            "sessionId": "long",
            "connectionId": "alice",
            "endpoint": "alice_CAMERA",
            "mediaType": "video",
            "timestamp": 1_000,
            "packetsSent": 1,
            "bytesSent": 1_000,
        }
        assert (await client.post("/client-stats", json=sample, headers=AUTH)).status == 200
        assert c.journal is not None
        compact_tick(c, min_dead_bytes=0)
        assert len(list(c.journal.entries())) == 3  # its document is not stored yet
        await c.writer.flush()
        compact_tick(c, min_dead_bytes=0)
        kinds = [kind for kind, _, _ in c.journal.entries()]
    assert kinds == ["/sessions", "/sessions"]  # the rooms' registrations wait for them


class HeldStore(MemoryStore):
    """A memory store that takes no bulk until ``release`` (Elasticsearch slow to answer)."""

    def __init__(self) -> None:
        super().__init__()
        self.released = asyncio.Event()

    async def write(self, docs: Sequence[tuple[str, Mapping[str, Any]]]) -> WriteResult:
        await self.released.wait()
        return await super().write(docs)


async def test_a_closed_session_whose_documents_are_still_in_memory_survives_a_kill(
    tmp_path: Path,
) -> None:
    """Room ``short`` closes while its documents wait for the store (in the queue and the bulks
    under way): compaction keeps its inputs, so a collector killed then (its journal as it is on
    disk, nothing drained) and restarted writes ``short``'s documents, the same as an
    uninterrupted run's."""
    first, middle, _ = two_rooms()
    reference = MemoryStore()
    app = create_app(settings(None), reference, FixedClock())
    async with TestClient(TestServer(app)) as client:
        await register(client)
        for part in (first, middle):
            assert (await client.post("/events", json=part)).status == 200
        await client.app[COLLECTOR].writer.flush()

    live, killed = tmp_path / "live", tmp_path / "killed"
    held = HeldStore()
    app = create_app(settings(live), held, FixedClock())
    async with TestClient(TestServer(app)) as client:
        c = client.app[COLLECTOR]
        await register(client)
        for part in (first, middle):
            assert (await client.post("/events", json=part)).status == 200
        flush = asyncio.create_task(c.writer.flush())
        await asyncio.sleep(0.05)
        assert c.writer.writing
        assert c.writer.durable_seq == 0  # nothing stored yet
        compact_tick(c, min_dead_bytes=0)
        assert c.journal is not None
        killed.mkdir()
        shutil.copy(live / "journal.ndjson", killed / "journal.ndjson")  # the kill, as on disk
        held.released.set()
        await flush

    after = MemoryStore()
    app = create_app(settings(killed), after, FixedClock())
    async with TestClient(TestServer(app)) as client:
        await client.app[COLLECTOR].writer.flush()
    short = {i: b for i, b in reference.docs.items() if b.get("sessionId") == "short"}
    assert any(b["elastic_type"] == "sessionSummary" for b in short.values())
    assert {i: after.docs.get(i) for i in short} == short
    assert {i: reference.docs[i] for i in after.docs} == after.docs  # same ids, same bodies


class AwayStore(MemoryStore):
    """Elasticsearch away: every bulk is deferred (the writer spools it)."""

    async def write(self, docs: Sequence[tuple[str, Mapping[str, Any]]]) -> WriteResult:
        return WriteResult(deferred=list(docs))


async def test_the_spool_is_fsynced_before_the_journal_lets_go_of_inputs_whose_documents_it_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the store away, room ``short``'s documents are only in the spool: the rewrite that
    drops its inputs first makes the spool durable (a power cut then loses neither)."""
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    first, _, _ = two_rooms()
    app = create_app(settings(tmp_path), AwayStore(), FixedClock())
    async with TestClient(TestServer(app)) as client:
        c = client.app[COLLECTOR]
        await register(client)
        assert (await client.post("/events", json=first)).status == 200
        await c.writer.flush()
        assert c.writer.spool is not None
        assert c.writer.stats()["spooled"] > 0
        monkeypatch.setattr(os, "fsync", fsync)
        assert compact_tick(c, min_dead_bytes=0)
        monkeypatch.undo()
        assert c.journal is not None
        assert not any('"short"' in str(body) for _, _, body in c.journal.entries())
    rewrite = next(i for i, path in enumerate(synced) if path.endswith("journal.tmp"))
    assert any("/spool/" in path for path in synced[:rewrite]), synced
