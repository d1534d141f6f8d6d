"""Batching documents to the store in the background, so Janus's POSTs return at once.

Documents are queued as ``(doc_id, body)`` and written in bulks of ``batch_size``. The writer
is **pipelined**: up to ``max_in_flight`` bulks are under way at once, so Elasticsearch indexes
one while the next is being filled and sent (with one bulk at a time it idled during every
round trip while the collector parsed, make bench 3). Order where it matters: a document's id is
in at most one bulk under way, so a later version of a document (same id) is only sent once the
bulk with its earlier version has been answered, and can never be overwritten by it, retries
included (``collector/store/elasticsearch.py`` retries inside the bulk's own write).

Memory is bounded: at most ``max_memory`` documents wait in memory besides the bulks under way.
Producers ask ``admit`` before adding more: while the queue is past ``max_memory / 2`` and the
store takes documents, it waits (up to ``ADMIT_WAIT_S``) until the writer has caught up, so under
sustained load the collector answers its senders at the store's pace instead of spooling what
the store is merely slow to take (spooling cost about 7 % of the collector's CPU in make bench
3, for nothing). With a spool (``collector/spool.py``), documents the store could not take
because it was unavailable go to disk, and so does everything submitted after them, until the
spool has been replayed, in order, into the store; past ``max_memory`` (a store slower than
``ADMIT_WAIT_S`` allows) the queue goes to the spool too. Documents refused for good (a mapping
conflict) are logged, counted and recorded in the spool's ``rejected.ndjson``; they never block
the replay.

Every document gets a sequence number when submitted; ``durable_seq`` is the highest number up
to which every document is in the store or the spool (or refused, or dropped): the journal drops
a closed session's inputs once its last document is below it (``collector/journal.py``).

A ``sessionSummary`` (a room just closed) is sent at once when no bulk is under way (a partial
one), else with the next full bulk or once the bulks under way have landed, so that it is
searchable well within the 1.2 s ``make bench`` holds it to (benchmark 4): Elasticsearch's own
refresh (every second, or at the first search of an idle shard) does the rest. The writer does
not ask for a refresh itself: one per closing room cost Elasticsearch twice the CPU of indexing
the documents themselves under ingest (benchmark 3).

Without a spool (unit tests, ES-less runs) unavailable documents go back to the front of the
memory queue, and past ``max_pending`` the oldest are dropped, logged and counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, deque
from collections.abc import Iterable

from collector.counters import ServiceCounters
from collector.documents import Document
from collector.spool import Item, Spool
from collector.store import Store, WriteResult

log = logging.getLogger(__name__)

SEARCHABLE_AT_ONCE = frozenset({"sessionSummary"})
"""Document types sent with the next bulk that can go (see the module's doc)."""
LINGER_S = 0.1
"""How long a partial batch left behind by a full one waits for more documents."""
MAX_IN_FLIGHT = 2
"""Bulks under way at once: Elasticsearch's write pool has a thread per core (two here)."""
ADMIT_WAIT_S = 5.0
"""How long ``admit`` holds a sender while the store catches up (Janus retries for ~6 s)."""


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
        max_in_flight: int = MAX_IN_FLIGHT,
    ) -> None:
        self._store = store
        self._counters = counters
        self._batch_size = batch_size
        self._max_pending = max_pending
        self._spool = spool
        self._max_memory = max_memory
        self._max_in_flight = max(1, max_in_flight)
        self._queue: deque[Item] = deque()
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._urgent = False
        self._stopping = False
        self._flights: dict[asyncio.Task[None], int] = {}
        """Bulks under way and the sequence number of each one's first document."""
        self._flying: Counter[str] = Counter()
        """Ids in the bulks under way (a document's versions are sent one after another)."""
        self._flying_docs = 0
        self._held: list[tuple[int, list[Item]]] = []
        """Documents of bulks the store did not take, with their first sequence number, until
        every bulk under way has landed: then they go back in order (``_put_back``)."""
        self._returned: list[tuple[int, list[Item]]] = []
        """Bulks cancelled mid-write, for the front of the queue (``_put_back``)."""
        self._replaying = False
        self.submitted = 0
        """Sequence number of the last document submitted (they count from 1)."""
        self.bulks = 0
        self.bulk_docs = 0

    @property
    def pending(self) -> int:
        """Documents not yet in the store, in memory, under way and in the spool."""
        waiting = len(self._queue) + self._flying_docs
        if self._spool is not None and not self._spool.empty:
            waiting += max(self._spool.spooled - self._spool.replayed, 0)
        return waiting

    @property
    def writing(self) -> bool:
        """A bulk is under way (or the spool is being replayed)."""
        return bool(self._flights) or self._replaying

    @property
    def idle(self) -> bool:
        """Nothing in memory and no write under way: every document is in the store or spool."""
        return not self._queue and not self.writing

    @property
    def durable_seq(self) -> int:
        """Every document numbered up to this is in the store or the spool (or refused or
        dropped, logged and counted): none is only in memory any more."""
        done = self.submitted - len(self._queue)
        if self._flights:
            done = min(done, min(self._flights.values()) - 1)
        if self._held:
            done = min(done, min(first for first, _ in self._held) - 1)
        return done

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
        """Queue ``items`` in order; ``searchable_at_once``: with the next bulk that can go."""
        self.submitted += len(items)
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
        if len(self._queue) > self._max_memory // 2 and (spool is None or spool.empty):
            self._room.clear()
        else:
            self._update_room()
        if searchable_at_once:
            self._urgent = True
            self._wake.set()
        elif len(self._queue) >= self._batch_size or (spool is not None and not spool.empty):
            self._wake.set()

    async def admit(self, timeout_s: float = ADMIT_WAIT_S) -> None:
        """Return once the writer has room (at once, unless the queue is past half of
        ``max_memory`` while the store takes documents); after ``timeout_s`` in any case."""
        if self._room.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._room.wait(), timeout=timeout_s)

    def _update_room(self) -> None:
        spool = self._spool
        away = spool is not None and not spool.empty
        if away or self._stopping or len(self._queue) <= self._max_memory // 4:
            self._room.set()

    async def _write(self, batch: list[Item]) -> WriteResult:
        self.bulks += 1
        self.bulk_docs += len(batch)
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
        """Write the spool to the store, oldest first; False when the store is still away.
        Only with no bulk under way: what they hold is older than what the spool holds."""
        assert self._spool is not None
        replayed_before = self._spool.replayed
        self._replaying = True
        try:
            while not self._spool.empty:
                batch = self._spool.peek(self._batch_size)
                if not batch:
                    break
                result = await self._write(batch)
                self._refused(batch, result)
                total.written += result.written
                self._counters.documents_written += result.written
                if result.deferred:
                    # Keep the head: the whole batch is sent again later (same ids).
                    total.deferred.extend(result.deferred)
                    return False
                self._spool.ack(len(batch))
        finally:
            self._replaying = False
            self._update_room()
        # Only when this flush replayed something: this runs on every flush (twice a second),
        # and "so far" once set stays set, so an unconditional line would fill the log forever.
        if self._spool.replayed > replayed_before:
            log.info("spool replayed: %d documents so far", self._spool.replayed)
        return True

    def _take(self, *, partial: bool) -> list[Item]:
        """The next bulk from the head of the queue: up to ``batch_size`` documents, cut
        before a document whose id is in a bulk under way; empty when it would not be full
        and ``partial`` is not allowed."""
        queue = self._queue
        if not queue or (not partial and len(queue) < self._batch_size):
            return []
        flying = self._flying
        size = min(self._batch_size, len(queue))
        if not flying:
            return [queue.popleft() for _ in range(size)]
        batch: list[Item] = []
        while queue and len(batch) < size and queue[0][0] not in flying:
            batch.append(queue.popleft())
        return batch

    def _launch(self, batch: list[Item], total: WriteResult) -> asyncio.Task[None]:
        first = self.submitted - len(self._queue) - len(batch) + 1
        self._flying.update(doc_id for doc_id, _ in batch)
        self._flying_docs += len(batch)
        task = asyncio.ensure_future(self._fly(batch, first, total))
        self._flights[task] = first
        task.add_done_callback(self._landed)
        return task

    def _landed(self, task: asyncio.Task[None]) -> None:
        self._flights.pop(task, None)
        if not self._flights:
            if self._returned:
                self._returned.sort(key=lambda returned: returned[0])
                for _, batch in reversed(self._returned):
                    self._queue.extendleft(reversed(batch))
                self._returned.clear()
                self._counters.documents_pending = len(self._queue)
            if self._held:
                self._put_back()
        self._wake.set()

    def _put_back(self) -> None:
        """The store did not take some bulks: once none is under way any more, their
        documents go back in the order they were submitted, before everything queued since:
        to the spool when there is one (and the queue after them), else to the front of the
        queue. Waiting for the others keeps a document's versions in order: a later version
        may wait in the queue behind an earlier one that was under way."""
        self._held.sort(key=lambda held: held[0])
        items = [item for _, batch in self._held for item in batch]
        self._held.clear()
        if self._spool is not None:
            self._spool.append([*items, *self._queue])
            self._queue.clear()
            log.warning(
                "store unavailable; spooling to %s (%d bytes)",
                self._spool.folder,
                self._spool.bytes,
            )
        else:
            self._queue.extendleft(reversed(items))
            log.warning("store unavailable; %d documents kept for later", len(self._queue))
        self._counters.documents_pending = len(self._queue)
        self._update_room()

    async def _fly(self, batch: list[Item], first: int, total: WriteResult) -> None:
        try:
            result = await self._write(batch)
        except asyncio.CancelledError:
            # Cancelled mid-write: the batch goes back to the front, in order, for whoever
            # writes next (the store may have it already: same ids), once all have landed.
            self._returned.append((first, batch))
            raise
        finally:
            self._flying_docs -= len(batch)
            flying = self._flying
            for doc_id, _ in batch:
                left = flying[doc_id] - 1
                if left > 0:
                    flying[doc_id] = left
                else:
                    del flying[doc_id]
        total.written += result.written
        self._counters.documents_written += result.written
        self._refused(batch, result)
        total.errors.extend(result.errors)
        if result.deferred:
            total.deferred.extend(result.deferred)
            self._held.append((first, list(result.deferred)))
        self._counters.documents_pending = len(self._queue)
        self._update_room()

    def _fill(self, total: WriteResult, *, partial: bool) -> bool:
        """Launch bulks while there is room for one; True when one was launched."""
        launched = False
        while len(self._flights) < self._max_in_flight:
            if self._held:
                break
            batch = self._take(partial=partial)
            if not batch:
                break
            self._launch(batch, total)
            launched = True
        return launched

    async def flush(self, *, whole: bool = True) -> WriteResult:
        """Write everything queued now (the spool first) and wait for it; returns the
        combined result. Documents submitted while this runs wait for the next flush unless
        they fill a batch. ``whole=False`` writes full batches only and leaves a last partial
        one queued. Cancelled, it cancels its bulks, which go back to the front of the queue
        in order."""
        total = WriteResult()
        await self._settle()
        if self._spool is not None and not self._spool.empty and not await self._replay(total):
            self._counters.documents_pending = len(self._queue)
            return total
        target = self.submitted
        try:
            while not total.deferred:
                head_seq = self.submitted - len(self._queue) + 1
                self._fill(total, partial=whole and head_seq <= target)
                if not self._flights:
                    break
                await asyncio.wait(list(self._flights), return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            for task in list(self._flights):
                task.cancel()
            await asyncio.gather(*self._flights, return_exceptions=True)
            raise
        await self._settle()
        self._counters.documents_pending = len(self._queue)
        return total

    async def _settle(self) -> None:
        """Wait for the bulks under way (the background loop's, at a flush or at exit)."""
        while self._flights:
            await asyncio.wait(list(self._flights))

    def stats(self) -> dict[str, int]:
        """The spool's counters for ``/stats``: spooled, replayed, rejected, bytes."""
        if self._spool is None:
            return {"spooled": 0, "replayed": 0, "rejected": 0, "bytes": 0}
        return self._spool.stats()

    def bulk_stats(self) -> dict[str, int]:
        """For ``/stats``: bulk requests sent, their documents, and what is under way."""
        return {
            "bulks": self.bulks,
            "bulk_docs": self.bulk_docs,
            "in_flight": len(self._flights),
            "durable_seq": self.durable_seq,
        }

    def stop(self) -> None:
        """Have ``run`` return after the writes under way, if any (the caller then flushes
        what is left: ``drain``). Cancelling ``run`` instead would cut writes in the middle."""
        self._stopping = True
        self._room.set()
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
        """Write until ``stop``: full bulks as soon as they are full (up to ``max_in_flight``
        at once), a partial one ``linger_s`` after a full one left it behind (else
        ``interval_s`` after it began to wait), and once no bulk is under way after a
        ``sessionSummary``. While the spool holds documents, it is replayed once no bulk is
        under way (every ``interval_s`` while the store stays away).

        Writing whatever had arrived during the previous write sent bulks of a few dozen
        documents under load (about 1,000 requests for 25,000 documents in make bench), each
        with its own translog sync in Elasticsearch.
        """
        partial_due: float | None = None
        replay_at = 0.0
        try:
            while not self._stopping:
                now = time.monotonic()
                spooling = self._spool is not None and not self._spool.empty
                timeout_s: float | None
                if len(self._flights) >= self._max_in_flight or (spooling and self._flights):
                    timeout_s = None  # a bulk landing wakes the loop
                elif spooling:
                    timeout_s = max(0.0, replay_at - now)
                elif partial_due is not None:
                    timeout_s = max(0.0, partial_due - now)
                else:
                    timeout_s = interval_s
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=timeout_s)
                if self._stopping:
                    break
                self._wake.clear()
                now = time.monotonic()
                if self._spool is not None and not self._spool.empty:
                    if self._flights or now < replay_at:
                        continue
                    if not await self._replay(WriteResult()):
                        replay_at = time.monotonic() + interval_s  # still away
                        continue
                total = WriteResult()
                full = self._fill(total, partial=False)
                due = partial_due is not None and now >= partial_due
                # A summary goes without waiting for a full bulk only when none is under way:
                # under load the next full one takes it within a round trip, while a partial
                # bulk per closing room (19 a second in make bench 3) doubled Elasticsearch's
                # CPU (a translog sync per bulk) and halved the documents per bulk.
                urgent = self._urgent and not self._flights
                if self._queue and (urgent or due):
                    self._fill(total, partial=True)
                if not self._queue:
                    partial_due, self._urgent = None, False
                elif full:
                    partial_due = now + linger_s  # left behind by a full one
                elif partial_due is None or now >= partial_due:
                    partial_due = now + interval_s if partial_due is None else now + linger_s
        finally:
            await self._settle()
