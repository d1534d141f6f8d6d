"""The journal: a collector restarted mid-session resumes it, and compaction keeps it small."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from collector.app import COLLECTOR, _compact_tick, create_app
from collector.clock import FixedClock
from collector.settings import CollectorSettings
from collector.store import MemoryStore
from tests.collector.janus_sequences import Janus
from tests.collector.model_helpers import ROOM, RUN

TOKEN = "t0ken"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def settings(state_dir: Path | None) -> CollectorSettings:
    return CollectorSettings(
        store="memory",
        token=TOKEN,
        webrtc_stats_interval_s=0,
        monitoring_interval_s=0,
        state_dir=state_dir,
    )


def session_events() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A session cut in two: joins and media first, leaves after."""
    j = Janus()
    j.create_room(ROOM, 0)
    j.join("alice", ROOM, 10)
    j.publish("alice", ROOM, 20)
    j.join("bob", ROOM, 30)
    j.subscribe("bob", ROOM, "alice", 40)
    first = len(j.events)
    j.clean_leave("bob", ROOM, 5_000, publishing=False)
    j.clean_leave("alice", ROOM, 6_000)
    return j.events[:first], j.events[first:]


async def play(
    state_dir: Path | None, store: MemoryStore, parts: list[list[dict[str, Any]]]
) -> None:
    """Each part goes to a new collector on the same state dir (a restart between parts)."""
    for number, events in enumerate(parts):
        app = create_app(settings(state_dir), store, FixedClock())
        async with TestClient(TestServer(app)) as client:
            if number == 0:
                body = {"sessionId": ROOM, "runId": RUN}
                assert (await client.post("/sessions", json=body, headers=AUTH)).status == 200
            assert (await client.post("/events", json=events)).status == 200
            await client.app[COLLECTOR].writer.flush()


async def test_a_restarted_collector_writes_the_same_documents_as_an_uninterrupted_one(
    tmp_path: Path,
) -> None:
    first, rest = session_events()
    reference = MemoryStore()
    await play(None, reference, [first + rest])
    after_restart = MemoryStore()  # holds only what the second collector wrote
    await play(tmp_path, MemoryStore(), [first])
    await play(tmp_path, after_restart, [rest])
    assert after_restart.docs == reference.docs
    assert await after_restart.count({"elastic_type": "sessionSummary"}) == 1


async def test_without_the_journal_a_restart_loses_the_session(tmp_path: Path) -> None:
    first, rest = session_events()
    after_restart = MemoryStore()
    await play(None, MemoryStore(), [first])
    await play(None, after_restart, [rest])
    assert await after_restart.count({"elastic_type": "sessionSummary"}) == 0


async def test_the_journal_is_compacted_once_no_session_is_open(tmp_path: Path) -> None:
    first, rest = session_events()
    app = create_app(settings(tmp_path), MemoryStore(), FixedClock())
    async with TestClient(TestServer(app)) as client:
        c = client.app[COLLECTOR]
        await client.post("/sessions", json={"sessionId": ROOM, "runId": RUN}, headers=AUTH)
        await client.post("/sessions", json={"sessionId": "later", "runId": RUN}, headers=AUTH)
        await client.post("/events", json=first)
        await c.writer.flush()
        _compact_tick(c)
        assert c.journal is not None
        assert c.journal.compactions == 0
        await client.post("/events", json=rest)
        await c.writer.flush()
        _compact_tick(c)
        assert c.journal.compactions == 1
        kept = list(c.journal.entries())
        # Only the registration of the session that has not happened yet is left.
        assert [(kind, body["sessionId"]) for kind, _, body in kept] == [("/sessions", "later")]


async def test_stats_say_how_many_journal_inputs_a_restart_replayed(tmp_path: Path) -> None:
    first, _ = session_events()
    await play(tmp_path, MemoryStore(), [first])
    app = create_app(settings(tmp_path), MemoryStore(), FixedClock())
    async with TestClient(TestServer(app)) as client:
        stats = await (await client.get("/stats")).json()
    assert stats["journal"]["replayed"] == 1 + len(first)  # the registration, then each event
    assert stats["journal"]["recorded"] == 0
