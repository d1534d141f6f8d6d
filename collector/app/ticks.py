"""The collector's background ticks: leaves settled, journal compacted, per-endpoint
``webrtcStats`` and host ``monitoringStats`` sampled. Each tick logs and counts its own failure,
so one bad tick never stops the loop that runs it (``every``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from collector.app.service import Collector
from collector.journal_index import MIN_DEAD_BYTES

log = logging.getLogger("collector.app")

SETTLE_INTERVAL_S = 0.5  # how often `leaving` participants past their grace period are settled
SYNC_INTERVAL_S = 1.0  # how often the journal and the spool are fsync-ed


async def every(interval_s: float, tick: Callable[[], None]) -> None:
    while True:
        await asyncio.sleep(interval_s)
        tick()


def settle_tick(c: Collector) -> None:
    try:
        c.emit(c.model.settle_due())
    except Exception:
        log.exception("leave settling failed")
        c.counters.handler_errors += 1


def guarded_compact_tick(c: Collector) -> None:
    """A failing compaction is logged and counted; the next tick tries again."""
    try:
        compact_tick(c)
    except Exception:
        log.exception("journal compaction failed")
        c.counters.handler_errors += 1


def compact_tick(c: Collector, min_dead_bytes: int = MIN_DEAD_BYTES) -> bool:
    """Mark the journal lines that may go (``collector.journal_index``: closed sessions whose
    documents are stored or spooled, stateless inputs once theirs are, superseded stats) and
    rewrite the journal when enough of it is dead; True when it was rewritten."""
    assert c.journal is not None
    writer = c.writer
    c.journal.index.sweep(c.clock.now_ms(), writer.submitted, writer.durable_seq)
    spool = writer.spool
    before = spool.sync_now if spool is not None and not spool.empty else None
    return c.journal.compact(min_dead_bytes, before)


async def sync_journal(c: Collector) -> None:
    """``fsync`` the journal and the spool (the README's fsync policy, Faults)."""
    try:
        if c.journal is not None:
            await c.journal.sync()
        if c.writer.spool is not None:
            await c.writer.spool.sync()
    except OSError:
        log.exception("journal fsync failed")
        c.counters.handler_errors += 1


def webrtc_stats_tick(c: Collector) -> None:
    try:
        c.emit(c.model.webrtc_stats_due())
    except Exception:
        log.exception("webrtcStats tick failed")
        c.counters.handler_errors += 1


def monitoring_tick(c: Collector) -> None:
    assert c.probe is not None
    try:
        c.emit([c.probe.sample(c.clock.now_ms())])
    except Exception:
        log.exception("monitoring probe failed")
        c.counters.probe_errors += 1
