"""This process's CPU (in cores, every thread counted), one thread's CPU, and resident memory,
between samples."""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable
from pathlib import Path


def process_cpu_s() -> float:
    """User + system CPU seconds of this process so far (all its threads)."""
    times = os.times()
    return times.user + times.system


def rss_kb() -> int:
    """Resident set size now, from ``/proc/self/statm``; the peak from ``getrusage`` elsewhere."""
    try:
        resident_pages = int(Path("/proc/self/statm").read_text().split()[1])
        return resident_pages * os.sysconf("SC_PAGE_SIZE") // 1024
    except (OSError, IndexError, ValueError):
        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # kB on Linux


def thread_cpu_s(thread_id: int) -> float | None:
    """User + system CPU seconds of one thread of this process (``/proc/self/task``), or None
    when it is gone or unreadable."""
    try:
        stat = Path(f"/proc/self/task/{thread_id}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": state is field 3
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ProcessMeter:
    """Cores used since the previous ``cpu_cores()`` call (1.0 = one core busy all the time)."""

    def __init__(
        self,
        *,
        cpu_s: Callable[[], float] = process_cpu_s,
        clock: Callable[[], float] = time.monotonic,
        memory_kb: Callable[[], int] = rss_kb,
        thread_cpu: Callable[[int], float | None] = thread_cpu_s,
    ) -> None:
        self._cpu_s = cpu_s
        self._clock = clock
        self._memory_kb = memory_kb
        self._thread_cpu = thread_cpu
        self._last = (clock(), cpu_s())
        self._threads: dict[int, tuple[float, float]] = {}

    def cpu_cores(self) -> float:
        now, cpu = self._clock(), self._cpu_s()
        then, cpu_then = self._last
        self._last = (now, cpu)
        wall = now - then
        return max(0.0, (cpu - cpu_then) / wall) if wall > 0 else 0.0

    def thread_cores(self, thread_id: int) -> float:
        """Cores one thread used since the previous call for it (0.0 the first time)."""
        now, cpu = self._clock(), self._thread_cpu(thread_id)
        if cpu is None:
            return 0.0
        then, cpu_then = self._threads.get(thread_id, (now, cpu))
        self._threads[thread_id] = (now, cpu)
        wall = now - then
        return max(0.0, (cpu - cpu_then) / wall) if wall > 0 else 0.0

    def rss_kb(self) -> int:
        return self._memory_kb()
