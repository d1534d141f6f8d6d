"""Watches the media server while a run plays: a Janus that stops answering ends the run.

Janus killed with SIGKILL sends nothing: no ``shutdown`` event reaches the collector, and the
driver only sees its long-polls and keepalives fail (they log and retry). So while the timeline
plays, a watcher asks the driver's ``probe`` (Janus: ``/info``, Janus docs, "RESTful, HTTP
API") from the client namespace every ``interval_s``; ``failures`` answers missed in a row mean
the server is gone.
The runner then stops the timeline, closes the ledger's books with ``mediaServerDisconnect``
(OpenVidu's reason when its media node is lost) and tells the collector (``/media-server-lost``),
which closes the documents of every open session with the same reason.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp

log = logging.getLogger(__name__)

MEDIA_SERVER_LOST = "mediaServerDisconnect"
"""OpenVidu's end reason when the media server is gone (``collector.reasons``)."""

Probe = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class MediaServerLost:
    """When and why the media server was given up on."""

    url: str
    at_s: float
    """Seconds since the timeline started, at the first unanswered probe."""
    at_ms: int
    """The same instant, in ms since the epoch (the documents' end time)."""
    error: str

    @property
    def message(self) -> str:
        return f"Janus at {self.url} stopped answering at t={self.at_s:.1f}s ({self.error})"


class JanusWatcher:
    """Probes Janus until it misses ``failures`` probes in a row; then returns what happened."""

    def __init__(
        self,
        probe: Probe,
        url: str,
        *,
        interval_s: float = 1.0,
        failures: int = 2,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        wall_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self._probe = probe
        self._url = url
        self._interval_s = interval_s
        self._failures = failures
        self._sleep = sleep
        self._wall_ms = wall_ms

    async def watch(self, started_ms: int) -> MediaServerLost:
        missed = 0
        first_miss_ms = 0
        while True:
            await self._sleep(self._interval_s)
            try:
                await self._probe()
            except (aiohttp.ClientError, TimeoutError, OSError, RuntimeError, ValueError) as exc:
                if missed == 0:
                    first_miss_ms = self._wall_ms()
                missed += 1
                log.warning("janus at %s: health probe %d failed: %r", self._url, missed, exc)
                if missed >= self._failures:
                    lost = MediaServerLost(
                        url=self._url,
                        at_s=(first_miss_ms - started_ms) / 1000,
                        at_ms=first_miss_ms,
                        error=f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,
                    )
                    log.error("%s", lost.message)
                    return lost
            else:
                missed = 0
