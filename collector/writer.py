"""Batching documents to the store in the background, so Janus's POSTs return at once.

Documents are queued as ``(doc_id, body)`` and written in bulk every ``flush_interval_s`` or when a
batch is full. Documents the store could not take because it was unavailable go back to the front
of the queue (bounded by ``max_pending``); documents refused for good are logged and counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from collector.counters import ServiceCounters
from collector.documents import Document
from collector.store import Store, WriteResult

log = logging.getLogger(__name__)


class DocumentWriter:
    def __init__(
        self,
        store: Store,
        counters: ServiceCounters,
        *,
        batch_size: int = 500,
        max_pending: int = 200_000,
    ) -> None:
        self._store = store
        self._counters = counters
        self._batch_size = batch_size
        self._max_pending = max_pending
        self._queue: deque[tuple[str, Mapping[str, Any]]] = deque()
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()

    @property
    def pending(self) -> int:
        return len(self._queue)

    def submit(self, docs: Iterable[Document]) -> None:
        for doc in docs:
            self._queue.append((doc.doc_id(), doc.body()))
            self._counters.documents_submitted[doc.elastic_type] += 1
        while len(self._queue) > self._max_pending:
            doc_id, _ = self._queue.popleft()
            self._counters.write_errors += 1
            log.error("document %s dropped: more than %d pending", doc_id, self._max_pending)
        self._counters.documents_pending = len(self._queue)
        if len(self._queue) >= self._batch_size:
            self._wake.set()

    async def flush(self) -> WriteResult:
        """Write everything queued now; returns the combined result."""
        total = WriteResult()
        async with self._lock:
            while self._queue:
                batch = [
                    self._queue.popleft() for _ in range(min(self._batch_size, len(self._queue)))
                ]
                try:
                    result = await self._store.write(batch)
                except Exception as exc:
                    log.exception("store write failed")
                    result = WriteResult(deferred=batch)
                    result.errors = [(doc_id, f"store write failed: {exc}") for doc_id, _ in batch]
                total.written += result.written
                self._counters.documents_written += result.written
                deferred_ids = {doc_id for doc_id, _ in result.deferred}
                for doc_id, reason in result.errors:
                    if doc_id not in deferred_ids:
                        self._counters.write_errors += 1
                        log.error("document %s refused by the store: %s", doc_id, reason)
                total.errors.extend(result.errors)
                if result.deferred:
                    total.deferred.extend(result.deferred)
                    self._queue.extendleft(reversed(result.deferred))
                    log.warning("store unavailable; %d documents kept for later", len(self._queue))
                    break
            self._counters.documents_pending = len(self._queue)
        return total

    async def run(self, interval_s: float) -> None:
        """Flush forever, every ``interval_s`` or as soon as a batch is full."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=interval_s)
            self._wake.clear()
            await self.flush()
