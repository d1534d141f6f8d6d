"""The disk spool and the writer: order kept, no duplicates, memory flat while the store is away."""

from __future__ import annotations

import asyncio
import logging
import os
import tracemalloc
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from collector.counters import ServiceCounters
from collector.spool import Item, Spool
from collector.store import MemoryStore, WriteResult
from collector.writer import DocumentWriter


class FlakyStore(MemoryStore):
    """A memory store that can be 'away' (defers everything) and refuses some ids for good."""

    def __init__(self) -> None:
        super().__init__()
        self.away = False
        self.refuse: set[str] = set()
        self.order: list[str] = []

    async def write(self, docs: Sequence[tuple[str, Mapping[str, Any]]]) -> WriteResult:
        if self.away:
            return WriteResult(errors=[(d, "unreachable") for d, _ in docs], deferred=list(docs))
        kept = [(d, b) for d, b in docs if d not in self.refuse]
        result = await super().write(kept)
        result.errors += [(d, "mapper_parsing_exception: x") for d, _ in docs if d in self.refuse]
        self.order += [d for d, _ in kept]
        return result


def items(start: int, n: int) -> list[Item]:
    return [(f"d{i:06d}", {"n": i, "pad": "x" * 200}) for i in range(start, start + n)]


def test_spool_returns_items_in_order_across_segments_and_restarts(tmp_path: Path) -> None:
    spool = Spool(tmp_path, segment_bytes=2_000)
    spool.append(items(0, 50))
    first = spool.peek(20)
    spool.ack(len(first))
    spool.close()
    again = Spool(tmp_path, segment_bytes=2_000)  # a restart keeps the head
    rest: list[Item] = []
    while not again.empty:
        batch = again.peek(7)
        again.ack(len(batch))
        rest += batch
    assert [d for d, _ in first + rest] == [d for d, _ in items(0, 50)]
    assert again.bytes == 0
    assert not list(tmp_path.glob("*.ndjson"))


async def test_writer_spools_while_the_store_is_away_and_replays_in_order_once(
    tmp_path: Path,
) -> None:
    store = FlakyStore()
    writer = DocumentWriter(store, ServiceCounters(), batch_size=100, spool=Spool(tmp_path))
    writer.submit_items(items(0, 150))
    await writer.flush()
    store.away = True
    writer.submit_items(items(150, 300))
    await writer.flush()
    writer.submit_items(items(450, 50))  # the spool is not empty: these go after, on disk
    assert writer.stats()["spooled"] == 350
    assert writer.stats()["bytes"] > 0
    store.away = False
    await writer.flush()
    assert store.order == [d for d, _ in items(0, 500)]
    assert len(store.docs) == 500
    assert writer.stats() == {"spooled": 350, "replayed": 350, "rejected": 0, "bytes": 0}


async def test_a_document_refused_for_good_is_recorded_and_does_not_block_the_replay(
    tmp_path: Path,
) -> None:
    store = FlakyStore()
    counters = ServiceCounters()
    writer = DocumentWriter(store, counters, batch_size=10, spool=Spool(tmp_path))
    store.away = True
    writer.submit_items(items(0, 30))
    await writer.flush()
    store.away = False
    store.refuse = {"d000012"}
    await writer.flush()
    assert len(store.docs) == 29
    assert counters.write_errors == 1
    rejected = (tmp_path / "rejected.ndjson").read_text()
    assert '"_id":"d000012"' in rejected
    assert "mapper_parsing_exception" in rejected
    assert writer.stats()["rejected"] == 1


async def test_memory_stays_bounded_while_spooling(tmp_path: Path) -> None:
    store = FlakyStore()
    store.away = True
    writer = DocumentWriter(
        store, ServiceCounters(), batch_size=100, spool=Spool(tmp_path), max_memory=100
    )
    tracemalloc.start()
    for start in range(0, 20_000, 100):  # ~5 MB of documents
        writer.submit_items(items(start, 100))
        if start % 2_000 == 0:
            await writer.flush()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert writer.stats()["bytes"] > 4_000_000
    assert peak < 1_500_000, peak
    store.away = False
    await writer.flush()
    assert len(store.docs) == 20_000
    assert store.order == sorted(store.order)


async def test_the_replay_is_logged_once_not_on_every_later_flush(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = FlakyStore()
    writer = DocumentWriter(store, ServiceCounters(), batch_size=100, spool=Spool(tmp_path))
    store.away = True
    writer.submit_items(items(0, 10))
    await writer.flush()
    store.away = False
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="collector.writer"):
        for _ in range(5):  # the writer flushes twice a second, whether or not there is work
            await writer.flush()
    assert [r.getMessage() for r in caplog.records] == ["spool replayed: 10 documents so far"]


async def test_bulks_under_way_together_are_spooled_in_the_order_they_were_submitted(
    tmp_path: Path,
) -> None:
    store = FlakyStore()
    store.away = True
    writer = DocumentWriter(
        store, ServiceCounters(), batch_size=10, spool=Spool(tmp_path), max_in_flight=3
    )
    writer.submit_items(items(0, 30))
    await writer.flush()
    assert writer.stats()["spooled"] == 30
    assert writer.durable_seq == 30  # spooled: safe from a collector kill
    store.away = False
    await writer.flush()
    assert store.order == [d for d, _ in items(0, 30)]


async def test_senders_are_not_held_once_the_queue_went_to_the_spool(tmp_path: Path) -> None:
    """Past half of ``max_memory`` senders wait for the store; once the queue overflowed into
    the spool (the store too slow or away) they are let go at once: memory is flat again."""
    spool = Spool(tmp_path)
    writer = DocumentWriter(
        MemoryStore(), ServiceCounters(), batch_size=10, spool=spool, max_memory=40
    )
    try:
        writer.submit_items(items(0, 30))  # past 40 / 2: held
        held = asyncio.create_task(writer.admit(timeout_s=5.0))
        await asyncio.sleep(0.01)
        assert not held.done()
        writer.submit_items(items(30, 20))  # past 40: the queue goes to the spool
        assert writer.stats()["spooled"] == 50
        await asyncio.wait_for(held, timeout=0.5)
        await asyncio.wait_for(writer.admit(timeout_s=5.0), timeout=0.5)
    finally:
        spool.close()


def test_a_full_segment_is_fsynced_before_the_spool_moves_to_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The once-a-second sync reaches the tail segment only: the one left behind is made
    durable when the tail moves on."""
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(Path(os.readlink(f"/proc/self/fd/{fd}")).name)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    spool = Spool(tmp_path, segment_bytes=200)
    try:
        spool.append(items(0, 10))
        assert synced == []
        spool.append(items(10, 10))  # the first segment is full: the tail moves to 2.ndjson
        assert synced == ["1.ndjson"]
    finally:
        spool.close()
