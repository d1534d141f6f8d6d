"""Batching documents to the store in the background, so Janus's POSTs return at once.

Documents are queued as ``(doc_id, body)`` and written in bulk every ``flush_interval_s`` or when a
batch is full. With a spool (``collector/spool.py``), documents the store could not take because
it was unavailable go to disk, and so does everything submitted after them, until the spool has
been replayed, in order, into the store: memory holds at most ``max_memory`` documents plus one
batch, however long the store is away. Documents refused for good (a mapping conflict) are logged,
counted and recorded in the spool's ``rejected.ndjson``; they never block the replay.

A ``sessionSummary`` (a room just closed) is written at once rather than at the next interval,
so that it is searchable well within the 2 s ``make bench`` holds it to (benchmark 4):
Elasticsearch's own refresh (every second, or at the first search of an idle shard) does the
rest. The writer does not ask for a refresh itself: one per closing room cost Elasticsearch
twice the CPU of indexing the documents themselves under ingest (benchmark 3).

Under load the writer sends full batches; one write at a time, in submission order, so a
document written twice (same id) ends with its latest version.

Without a spool (unit tests, ES-less runs) unavailable documents go back to the front of the
memory queue, and past ``max_pending`` the oldest are dropped, logged and counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Iterable

from collector.counters import ServiceCounters
from collector.documents import Document
from collector.spool import Item, Spool
from collector.store import Store, WriteResult

log = logging.getLogger(__name__)

SEARCHABLE_AT_ONCE = frozenset({"sessionSummary"})
"""Document types flushed as soon as they are submitted (see the module's doc)."""
LINGER_S = 0.1
"""How long a partial batch left behind by a full one waits for more documents."""


class DocumentWriter:
    def __init__(
        self,
        store: Store,
        counters: ServiceCounters,
        *,
        batch_size: int = 500,
        max_pending: int = 200_000,
        spool: Spool | None = None,
        max_memory: int = 10_000,
    ) -> None:
        self._store = store
        self._counters = counters
        self._batch_size = batch_size
        self._max_pending = max_pending
        self._spool = spool
        self._max_memory = max_memory
        self._queue: deque[Item] = deque()
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._urgent = False
        self._stopping = False

    @property
    def pending(self) -> int:
        """Documents not yet in the store, in memory and in the spool."""
        waiting = len(self._queue)
        if self._spool is not None and not self._spool.empty:
            waiting += max(self._spool.spooled - self._spool.replayed, 0)
        return waiting

    @property
    def idle(self) -> bool:
        """Nothing in memory and no write under way: every document is in the store or spool."""
        return not self._queue and not self._lock.locked()

    @property
    def spool(self) -> Spool | None:
        return self._spool

    def submit(self, docs: Iterable[Document]) -> None:
        items: list[Item] = []
        urgent = False
        submitted = self._counters.documents_submitted
        for doc in docs:
            items.append(doc.item())
            kind = doc.elastic_type
            submitted[kind] += 1
            urgent = urgent or kind in SEARCHABLE_AT_ONCE
        if items:
            self.submit_items(items, searchable_at_once=urgent)

    def submit_items(self, items: list[Item], *, searchable_at_once: bool = False) -> None:
        """Queue ``items`` in order; ``searchable_at_once``: flush at once (``run``)."""
        spool = self._spool
        if spool is not None and not spool.empty:
            spool.append(items)  # the store is away: keep the order, keep memory flat
        else:
            self._queue.extend(items)
            if spool is not None and len(self._queue) > self._max_memory:
                spool.append(list(self._queue))
                self._queue.clear()
        while len(self._queue) > self._max_pending:
            doc_id, _ = self._queue.popleft()
            self._counters.write_errors += 1
            log.error("document %s dropped: more than %d pending", doc_id, self._max_pending)
        self._counters.documents_pending = len(self._queue)
        if searchable_at_once:
            self._urgent = True
            self._wake.set()
        elif len(self._queue) >= self._batch_size or (spool is not None and not spool.empty):
            self._wake.set()

    async def _write(self, batch: list[Item]) -> WriteResult:
        try:
            return await self._store.write(batch)
        except Exception as exc:
            log.exception("store write failed")
            result = WriteResult(deferred=batch)
            result.errors = [(doc_id, f"store write failed: {exc}") for doc_id, _ in batch]
            return result

    def _refused(self, batch: list[Item], result: WriteResult) -> None:
        deferred_ids = {doc_id for doc_id, _ in result.deferred}
        bodies = dict(batch)
        for doc_id, reason in result.errors:
            if doc_id in deferred_ids:
                continue
            self._counters.write_errors += 1
            log.error("document %s refused by the store: %s", doc_id, reason)
            if self._spool is not None:
                self._spool.reject(doc_id, reason, bodies.get(doc_id))

    async def _replay(self, total: WriteResult) -> bool:
        """Write the spool to the store, oldest first; False when the store is still away."""
        assert self._spool is not None
        replayed_before = self._spool.replayed
        while not self._spool.empty:
            batch = self._spool.peek(self._batch_size)
            if not batch:
                break
            result = await self._write(batch)
            self._refused(batch, result)
            total.written += result.written
            self._counters.documents_written += result.written
            if result.deferred:
                # Keep the head: the whole batch is sent again later (same ids, no duplicates).
                total.deferred.extend(result.deferred)
                return False
            self._spool.ack(len(batch))
        # Only when this flush replayed something: this runs on every flush (twice a second),
        # and "so far" once set stays set, so an unconditional line would fill the log forever.
        if self._spool.replayed > replayed_before:
            log.info("spool replayed: %d documents so far", self._spool.replayed)
        return True

    async def flush(self, *, whole: bool = True) -> WriteResult:
        """Write everything queued now (the spool first); returns the combined result.

        Documents submitted while this runs wait for the next flush unless they fill a batch:
        writing them at once sent bulks of a few dozen documents under load. ``whole=False``
        writes full batches only and leaves a last partial one queued (the background loop's
        choice while documents keep coming, see ``run``).
        """
        total = WriteResult()
        async with self._lock:
            if self._spool is not None and not await self._replay(total):
                self._counters.documents_pending = len(self._queue)
                return total
            partial = len(self._queue) if whole else 0
            while len(self._queue) >= self._batch_size or partial > 0:
                size = min(self._batch_size, len(self._queue))
                partial -= size
                batch = [self._queue.popleft() for _ in range(size)]
                try:
                    result = await self._write(batch)
                except asyncio.CancelledError:
                    # Cancelled mid-write: the batch goes back to the front, in order, for
                    # whoever flushes next (the store may have it already: same ids).
                    self._queue.extendleft(reversed(batch))
                    self._counters.documents_pending = len(self._queue)
                    raise
                total.written += result.written
                self._counters.documents_written += result.written
                self._refused(batch, result)
                total.errors.extend(result.errors)
                if result.deferred:
                    total.deferred.extend(result.deferred)
                    if self._spool is not None:
                        self._spool.append([*result.deferred, *self._queue])
                        self._queue.clear()
                        log.warning(
                            "store unavailable; spooling to %s (%d bytes)",
                            self._spool.folder,
                            self._spool.bytes,
                        )
                    else:
                        self._queue.extendleft(reversed(result.deferred))
                        log.warning(
                            "store unavailable; %d documents kept for later", len(self._queue)
                        )
                    break
            self._counters.documents_pending = len(self._queue)
        return total

    def stats(self) -> dict[str, int]:
        """The spool's counters for ``/stats``: spooled, replayed, rejected, bytes."""
        if self._spool is None:
            return {"spooled": 0, "replayed": 0, "rejected": 0, "bytes": 0}
        return self._spool.stats()

    def stop(self) -> None:
        """Have ``run`` return after the write under way, if any (the caller then flushes
        what is left: ``drain``). Cancelling ``run`` instead would cut a write in the middle."""
        self._stopping = True
        self._wake.set()

    async def drain(self) -> WriteResult:
        """At exit: write everything still queued, the spool first; what the store will not
        take stays in the spool (when there is one) for the next start."""
        result = await self.flush()
        if self._queue and self._spool is not None:
            self._spool.append(list(self._queue))
            self._queue.clear()
            self._counters.documents_pending = 0
        return result

    async def run(self, interval_s: float, *, linger_s: float = LINGER_S) -> None:
        """Flush until ``stop``: full batches as soon as they are full, a partial one ``linger_s``
        after a full one left it behind (else every ``interval_s``), and at once after a
        ``sessionSummary``.

        Writing whatever had arrived during the previous write, as this loop used to, sent
        bulks of a few dozen documents under load (about 1,000 requests for 25,000 documents
        in make bench), each with its own translog sync in Elasticsearch.
        """
        timeout_s = interval_s
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=timeout_s)
            if self._stopping:
                break
            woken = self._wake.is_set()
            self._wake.clear()
            urgent, self._urgent = self._urgent, False
            result = await self.flush(whole=urgent or not woken)
            # The store away (deferred): the spool's replay waits the interval as before.
            timeout_s = linger_s if self._queue and not result.deferred else interval_s
