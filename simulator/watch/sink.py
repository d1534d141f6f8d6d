"""Where samples go: the collector's ``POST /generator-stats``, posted from the sampler thread
onto the event loop that owns the collector client."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading

from simulator.collector_client import CollectorClient
from simulator.watch.model import GeneratorSample

log = logging.getLogger(__name__)

ROUTE = "/generator-stats"


class CollectorSink:
    """A ``Sink`` posting each sample to the collector on ``loop`` (the collector client's).

    Posting never blocks the sampler; a refused post is logged (the samples stay in the
    report, which the ledger keeps whatever the collector did). ``flush`` waits for the posts
    still in flight, from the loop's own thread.
    """

    def __init__(self, collector: CollectorClient, loop: asyncio.AbstractEventLoop) -> None:
        self._collector = collector
        self._loop = loop
        self._lock = threading.Lock()
        self._pending: set[concurrent.futures.Future[None]] = set()
        self.failures = 0

    def __call__(self, sample: GeneratorSample) -> None:
        if self._loop.is_closed():
            return
        future = asyncio.run_coroutine_threadsafe(
            self._collector.post(ROUTE, sample.as_input()), self._loop
        )
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: concurrent.futures.Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)
        if future.cancelled():
            return
        error = future.exception()
        if error is not None:
            self.failures += 1
            log.warning("generator sample not posted to the collector: %s", error)

    async def flush(self, timeout_s: float = 15.0) -> None:
        with self._lock:
            pending = list(self._pending)
        if pending:
            await asyncio.wait([asyncio.wrap_future(f) for f in pending], timeout=timeout_s)
