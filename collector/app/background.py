"""The collector's background work, in the app's cleanup context: the writer, the settle,
webrtcStats, journal compaction and monitoring ticks. On the way out the ticks are cancelled,
the writer is stopped after the write under way (never cut in the middle of one), pending
leaves and the last stats of open endpoints are emitted, and everything left is written, or
spooled when the store will not take it and there is a spool."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from collector.app.service import COLLECTOR, Collector
from collector.app.ticks import (
    SETTLE_INTERVAL_S,
    SYNC_INTERVAL_S,
    every,
    guarded_compact_tick,
    monitoring_tick,
    settle_tick,
    sync_journal,
    webrtc_stats_tick,
)

log = logging.getLogger("collector.app")


async def syncing(c: Collector) -> None:
    while True:
        await asyncio.sleep(SYNC_INTERVAL_S)
        await sync_journal(c)


def background(app: web.Application) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(_: web.Application) -> AsyncIterator[None]:
        c = app[COLLECTOR]
        s = c.settings
        writer = asyncio.create_task(c.writer.run(s.flush_interval_s), name="writer")
        ticks: list[tuple[str, float, Callable[[], None]]] = [
            ("settle", SETTLE_INTERVAL_S, lambda: settle_tick(c))
        ]
        if s.webrtc_stats_interval_s > 0:
            ticks.append(("webrtc-stats", s.webrtc_stats_interval_s, lambda: webrtc_stats_tick(c)))
        if c.journal is not None:
            ticks.append(("journal-compaction", SETTLE_INTERVAL_S, lambda: guarded_compact_tick(c)))
        if s.monitoring_interval_s > 0 and c.probe is not None:
            ticks.append(("monitoring", s.monitoring_interval_s, lambda: monitoring_tick(c)))
        tasks = [asyncio.create_task(every(i, tick), name=name) for name, i, tick in ticks]
        if c.journal is not None or c.writer.spool is not None:
            tasks.append(asyncio.create_task(syncing(c), name="fsync"))
        yield
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        c.writer.stop()
        try:
            await writer
        except Exception:
            log.exception("the writer failed")
        # Shutting down: pending leaves, the last stats of open endpoints, then the rest.
        c.emit(c.model.settle_due())
        c.emit(c.model.webrtc_stats_due())
        await c.writer.drain()
        if c.writer.pending and c.writer.spool is not None:
            log.warning("%d documents wait in the spool for the next start", c.writer.pending)
        elif c.writer.pending:
            log.error("%d documents could not be written before exit", c.writer.pending)
        if c.writer.spool is not None:
            c.writer.spool.close()
        if c.journal is not None:
            c.journal.close()

    return context
