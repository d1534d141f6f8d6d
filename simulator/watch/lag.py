"""How late an event loop runs: a task that sleeps a short interval and records its oversleep.

A loop that is busy (or blocked by a synchronous call) wakes its sleepers late; the oversleep is
exactly how long a packet that arrived meanwhile waited in the socket buffer before aiortc read
it. The probe runs *on the watched loop* (for rtcsim, the ``NamespaceLoop`` that carries the
media) and is started and read from any thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable

PROBE_INTERVAL_S = 0.05  # 20 wake-ups a second: finer than a 30 fps frame, negligible cost


class LoopLagProbe:
    """Oversleeps of a probe task on ``loop``, in seconds, collected until ``drain``."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        interval_s: float = PROBE_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.loop = loop
        self.interval_s = interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._lags_s: list[float] = []
        self._sleeping_since: float | None = None
        self._future: concurrent.futures.Future[None] | None = None
        self.thread_id: int | None = None
        """The OS id of the loop's thread, known once the probe ran: its CPU is the loop's."""

    def start(self) -> None:
        """Schedule the probe on its loop; thread-safe, returns at once."""
        if self._future is None:
            self._future = asyncio.run_coroutine_threadsafe(self._run(), self.loop)

    def stop(self) -> None:
        """Cancel the probe (if its loop still runs); what was measured stays for ``drain``."""
        if self._future is not None and not self.loop.is_closed():
            self._future.cancel()
        self._future = None

    async def _run(self) -> None:
        self.thread_id = threading.get_native_id()
        while True:
            began = self._clock()
            with self._lock:
                self._sleeping_since = began
            await asyncio.sleep(self.interval_s)
            self.record(self._clock() - began - self.interval_s)

    def record(self, lag_s: float) -> None:
        """One measured oversleep (negative ones, the timer's early wake-ups, count as 0)."""
        with self._lock:
            self._lags_s.append(max(0.0, lag_s))
            self._sleeping_since = None

    def drain(self) -> list[float]:
        """The oversleeps measured since the last drain (seconds). A loop blocked for the whole
        window produced none: then its current overdue time stands in, so a stall is never
        reported as zero lag."""
        with self._lock:
            lags, self._lags_s = self._lags_s, []
            since = self._sleeping_since
        if not lags and since is not None:
            overdue = self._clock() - since - self.interval_s
            if overdue > 0:
                lags = [overdue]
        return lags
