"""The collector's background ticks: leaves settled, journal compacted, per-endpoint
``webrtcStats`` and host ``monitoringStats`` sampled. Each tick logs and counts its own failure,
so one bad tick never stops the loop that runs it (``every``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from collector.app.service import Collector

log = logging.getLogger("collector.app")

SETTLE_INTERVAL_S = 0.5  # how often `leaving` participants past their grace period are settled
REGISTRATIONS = frozenset({"/sessions", "/identities", "/streams"})
REGISTRATION_KEEP_MS = 10 * 60 * 1000  # a registration without a sessionId, kept this long


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


def compact_tick(c: Collector) -> None:
    """Empty the journal once no session is open and its documents are in the store or spool."""
    assert c.journal is not None
    if c.journal.dirty and not c.model.open_sessions() and c.writer.idle:
        recent_ms = c.clock.now_ms() - REGISTRATION_KEEP_MS

        def keep(kind: str, now_ms: int, body: Any) -> bool:
            if kind not in REGISTRATIONS or not isinstance(body, dict):
                return False
            session_id = body.get("sessionId")
            if session_id is None:
                return now_ms >= recent_ms
            return session_id not in c.closed_sessions

        c.journal.compact(keep)
        c.closed_sessions.clear()  # their registrations just left the journal (soak: no growth)


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
