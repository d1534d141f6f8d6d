"""The journal: a collector restarted mid-session resumes it, and compaction keeps it small."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from collector.app import COLLECTOR, create_app
from collector.app.ticks import compact_tick
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


async def test_a_session_leaves_the_journal_once_it_closed_and_its_documents_are_stored(
    tmp_path: Path,
) -> None:
    first, rest = session_events()
    app = create_app(settings(tmp_path), MemoryStore(), FixedClock())
    async with TestClient(TestServer(app)) as client:
        c = client.app[COLLECTOR]
        await client.post("/sessions", json={"sessionId": ROOM, "runId": RUN}, headers=AUTH)
        await client.post("/sessions", json={"sessionId": "later", "runId": RUN}, headers=AUTH)
        await client.post("/events", json=first)
        await c.writer.flush()
        compact_tick(c, min_dead_bytes=0)
        assert c.journal is not None
        assert c.journal.compactions == 0
        await client.post("/events", json=rest)
        await c.writer.flush()
        compact_tick(c, min_dead_bytes=0)
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


async def test_a_batch_of_events_is_in_the_journal_in_one_write_when_its_answer_comes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _ = session_events()
    bad = {"type": 3, "timestamp": 1, "event": {}}
    app = create_app(settings(tmp_path), MemoryStore(), FixedClock())
    async with TestClient(TestServer(app)) as client:
        journal = client.app[COLLECTOR].journal
        assert journal is not None
        writes: list[bytes] = []
        real_write = journal._fh.write
        monkeypatch.setattr(
            journal._fh, "write", lambda data: writes.append(data) or real_write(data)
        )
        answer = await client.post("/events", json=[*first, bad])
        assert answer.status == 400  # the bad one is named; the valid ones are kept
        # read from disk as soon as the answer is in: written and flushed before it
        journaled = [body for kind, _, body in journal.entries() if kind == "event"]
    assert journaled == first
    assert len(writes) == 1
    assert journal.recorded == len(first)


def test_a_torn_last_line_is_cut_before_new_entries_are_appended(tmp_path: Path) -> None:
    """A collector killed mid-write leaves half a line; the next one must not glue its first
    entry onto it (that line, and so the entry, would be lost to the replay after)."""
    from collector.journal import Journal

    path = tmp_path / "journal.jsonl"
    path.write_bytes(b'["event",1,{"a":1}]\n["event",2,{"b"')
    journal = Journal(path)
    journal.record("event", 3, {"c": 3})
    journal.close()
    reopened = Journal(path)
    assert [entry[1] for entry in reopened.entries()] == [1, 3]
    reopened.close()


def test_a_damaged_line_in_the_middle_costs_that_input_only(tmp_path: Path) -> None:
    from collector.journal import Journal

    path = tmp_path / "journal.jsonl"
    path.write_bytes(b'["event",1,{}]\nnot json at all\n["event"]\n["event",4,{}]\n')
    journal = Journal(path)
    assert [entry[1] for entry in journal.entries()] == [1, 4]
    journal.close()
