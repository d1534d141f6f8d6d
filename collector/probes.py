"""The host probe behind monitoringStats: CPU, memory, network, and the Janus process.

Janus lives in its own network namespace, so psutil (root namespace) does not see its interfaces;
``/proc/<janus pid>/net/dev`` shows that namespace's counters without entering it. Those are
reported as ``janus:<iface>`` keys of ``net``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

import psutil

from collector.documents import MemoryUsage, MonitoringStats, NetCounters

log = logging.getLogger(__name__)


class HostProbe(Protocol):
    def sample(self, now_ms: int) -> MonitoringStats:
        """One monitoringStats document for ``now_ms``."""
        ...


def read_net_dev(path: Path) -> dict[str, NetCounters]:
    """Parse ``/proc/<pid>/net/dev`` (two header lines, then ``iface: rx... tx...``)."""
    counters: dict[str, NetCounters] = {}
    for line in path.read_text().splitlines()[2:]:
        name, _, rest = line.partition(":")
        fields = rest.split()
        if len(fields) >= 9:
            counters[name.strip()] = NetCounters(rxBytes=int(fields[0]), txBytes=int(fields[8]))
    return counters


class PsutilProbe:
    """The real probe; CPU percentages are since the previous sample (psutil semantics)."""

    def __init__(self, janus_pid_file: Path | None = None) -> None:
        self._janus_pid_file = janus_pid_file
        self._janus: psutil.Process | None = None
        psutil.cpu_percent(interval=None)

    def _janus_process(self) -> psutil.Process | None:
        if self._janus_pid_file is None:
            return None
        try:
            pid = int(self._janus_pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        if self._janus is None or self._janus.pid != pid:
            try:
                self._janus = psutil.Process(pid)
                self._janus.cpu_percent(interval=None)
            except psutil.Error:
                self._janus = None
        return self._janus

    def sample(self, now_ms: int) -> MonitoringStats:
        mem = psutil.virtual_memory()
        net = {
            name: NetCounters(rxBytes=c.bytes_recv, txBytes=c.bytes_sent)
            for name, c in psutil.net_io_counters(pernic=True).items()
        }
        janus_cpu: float | None = None
        janus_rss_kb: int | None = None
        proc = self._janus_process()
        if proc is not None:
            try:
                janus_cpu = proc.cpu_percent(interval=None)
                janus_rss_kb = proc.memory_info().rss // 1024
                for name, counters in read_net_dev(Path(f"/proc/{proc.pid}/net/dev")).items():
                    net[f"janus:{name}"] = counters
            except (psutil.Error, OSError) as exc:
                log.warning("Janus process probe failed: %s", exc)
                self._janus = None
        return MonitoringStats(
            timestamp=now_ms,
            cpu=psutil.cpu_percent(interval=None),
            mem=MemoryUsage(used=(mem.total - mem.available) // 1024, percentage=mem.percent),
            net=net,
            janus_cpu=janus_cpu,
            janus_rss_kb=janus_rss_kb,
        )
