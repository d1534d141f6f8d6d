"""The writer's loop: full bulks under load, partial ones soon after, summaries at once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from collector.counters import ServiceCounters
from collector.spool import Item
from collector.store import MemoryStore, WriteResult
from collector.writer import DocumentWriter


class SlowStore(MemoryStore):
    """A memory store whose writes take ``write_s``, recording each bulk's size and refreshes."""

    def __init__(self, write_s: float = 0.01) -> None:
        super().__init__()
        self.write_s = write_s
        self.bulks: list[int] = []
        self.refreshes = 0

    async def write(self, docs: Sequence[tuple[str, Mapping[str, Any]]]) -> WriteResult:
        await asyncio.sleep(self.write_s)
        self.bulks.append(len(docs))
        return await super().write(docs)

    async def refresh(self) -> None:
        self.refreshes += 1


def items(start: int, n: int) -> list[Item]:
    return [(f"d{i:06d}", {"n": i}) for i in range(start, start + n)]


@contextlib.asynccontextmanager
async def running(
    writer: DocumentWriter, interval_s: float, linger_s: float
) -> AsyncIterator[None]:
    task = asyncio.create_task(writer.run(interval_s, linger_s=linger_s))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def until(condition: Any, timeout_s: float = 3.0) -> None:
    """Poll ``condition`` (the store has no event to wait on) until it holds."""
    async with asyncio.timeout(timeout_s):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.005)


async def test_under_a_steady_stream_the_writer_sends_full_bulks_not_what_came_during_a_write() -> (
    None
):
    store = SlowStore(write_s=0.02)
    writer = DocumentWriter(store, ServiceCounters(), batch_size=50)
    async with running(writer, interval_s=5.0, linger_s=1.0):
        for start in range(0, 500, 5):  # 5 documents every 2 ms, ten per write
            writer.submit_items(items(start, 5))
            await asyncio.sleep(0.002)
        await until(lambda: len(store.docs) == 500)
    assert store.bulks == [50] * 10
    assert [doc_id for doc_id, _ in sorted(store.docs.items())] == [d for d, _ in items(0, 500)]


async def test_a_summary_waits_for_the_bulk_under_way_and_goes_with_what_came_meanwhile() -> None:
    """Not in a partial bulk of its own beside the one under way: one per closing room (19 a
    second in make bench 3) cost Elasticsearch a request and a translog sync each."""
    store = SlowStore(write_s=0.5)
    writer = DocumentWriter(store, ServiceCounters(), batch_size=50)
    async with running(writer, interval_s=5.0, linger_s=1.0):
        writer.submit_items(items(0, 50))
        await until(lambda: writer.writing)
        writer.submit_items(items(50, 10), searchable_at_once=True)
        await asyncio.sleep(0.02)
        writer.submit_items(items(60, 40))
        await until(lambda: len(store.docs) == 100)
    assert store.bulks == [50, 50]


async def test_a_partial_bulk_left_behind_by_a_full_one_goes_after_the_linger() -> None:
    store = SlowStore(write_s=0.0)
    writer = DocumentWriter(store, ServiceCounters(), batch_size=10)
    async with running(writer, interval_s=60.0, linger_s=0.05):
        writer.submit_items(items(0, 13))
        await until(lambda: len(store.docs) == 13, timeout_s=2.0)
    assert store.bulks == [10, 3]


async def test_a_session_summary_is_written_at_once_without_forcing_a_refresh() -> None:
    """At once despite a 60 s interval; no refresh: Elasticsearch's own makes it searchable
    (one refresh per closing room doubled Elasticsearch's CPU in make bench)."""
    store = SlowStore(write_s=0.0)
    writer = DocumentWriter(store, ServiceCounters(), batch_size=500)
    async with running(writer, interval_s=60.0, linger_s=60.0):
        writer.submit_items(items(0, 3), searchable_at_once=True)
        await until(lambda: len(store.docs) == 3, timeout_s=1.0)
    assert store.refreshes == 0


async def test_a_stopped_writer_finishes_the_write_under_way_and_drain_writes_the_rest() -> None:
    store = SlowStore(write_s=0.1)
    writer = DocumentWriter(store, ServiceCounters(), batch_size=10)
    task = asyncio.create_task(writer.run(60.0, linger_s=60.0))
    writer.submit_items(items(0, 15))
    await until(lambda: writer.writing)
    writer.stop()
    await asyncio.wait_for(task, timeout=2.0)
    assert len(store.docs) == 10
    await writer.drain()
    assert len(store.docs) == 15
    assert writer.pending == 0


async def test_a_flush_cancelled_mid_write_puts_its_batch_back_in_order() -> None:
    store = SlowStore(write_s=10.0)
    writer = DocumentWriter(store, ServiceCounters(), batch_size=10)
    writer.submit_items(items(0, 15))
    flush = asyncio.create_task(writer.flush())
    await until(lambda: writer.writing)
    flush.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await flush
    assert writer.pending == 15
    store.write_s = 0.0
    await writer.flush()
    assert list(store.docs) == [d for d, _ in items(0, 15)]


class OrderedStore(MemoryStore):
    """A memory store whose n-th write takes ``delays[n]`` seconds, so later bulks can land
    before earlier ones; it records the most bulks under way at once."""

    def __init__(self, delays: list[float]) -> None:
        super().__init__()
        self.delays = delays
        self.writes = 0
        self.under_way = 0
        self.most_under_way = 0

    async def write(self, docs: Sequence[tuple[str, Mapping[str, Any]]]) -> WriteResult:
        delay = self.delays[self.writes] if self.writes < len(self.delays) else 0.0
        self.writes += 1
        self.under_way += 1
        self.most_under_way = max(self.most_under_way, self.under_way)
        try:
            await asyncio.sleep(delay)
            return await super().write(docs)
        finally:
            self.under_way -= 1


async def test_bulks_are_pipelined_up_to_max_in_flight() -> None:
    store = OrderedStore([0.05] * 10)
    writer = DocumentWriter(store, ServiceCounters(), batch_size=10, max_in_flight=3)
    writer.submit_items(items(0, 100))
    await writer.flush()
    assert store.most_under_way == 3
    assert len(store.docs) == 100
    assert writer.bulk_stats()["bulks"] == 10


async def test_a_later_version_is_never_overwritten_by_an_earlier_one_landing_late() -> None:
    """The first bulk (with version 1 of d000005) is slow, the second fast: version 2 waits
    for the first bulk to land instead of going in the second."""
    store = OrderedStore([0.2, 0.0, 0.0, 0.0])
    writer = DocumentWriter(store, ServiceCounters(), batch_size=10, max_in_flight=2)
    writer.submit_items(items(0, 10))
    writer.submit_items([("d000005", {"n": 5, "version": 2}), *items(10, 9)])
    await writer.flush()
    assert store.docs["d000005"] == {"n": 5, "version": 2}
    assert len(store.docs) == 19


async def test_durable_seq_covers_only_documents_that_left_memory() -> None:
    store = SlowStore(write_s=0.1)
    writer = DocumentWriter(store, ServiceCounters(), batch_size=10, max_in_flight=2)
    writer.submit_items(items(0, 25))
    flush = asyncio.create_task(writer.flush())
    await until(lambda: writer.writing)
    assert writer.submitted == 25
    assert writer.durable_seq == 0  # two bulks under way, five queued
    await flush
    assert writer.durable_seq == 25


async def test_admit_holds_senders_while_the_queue_is_past_half_the_memory_bound() -> None:
    store = SlowStore(write_s=0.05)
    writer = DocumentWriter(store, ServiceCounters(), batch_size=10, max_memory=40)
    writer.submit_items(items(0, 30))  # past 40 / 2
    admitted = asyncio.create_task(writer.admit(timeout_s=5.0))
    await asyncio.sleep(0.01)
    assert not admitted.done()
    async with running(writer, interval_s=0.05, linger_s=0.01):
        await asyncio.wait_for(admitted, timeout=2.0)
        assert writer.pending <= 40 // 4 + 2 * 10  # caught up: a quarter queued, two bulks
        await until(lambda: len(store.docs) == 30)


async def test_admit_gives_up_waiting_after_its_timeout() -> None:
    writer = DocumentWriter(SlowStore(), ServiceCounters(), batch_size=10, max_memory=10)
    writer.submit_items(items(0, 10))
    await asyncio.wait_for(writer.admit(timeout_s=0.05), timeout=1.0)
