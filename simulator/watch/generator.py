"""``GeneratorWatch``: samples one process and its event loops every ``interval_s``.

The sampler is a thread of its own, not a task: a blocked loop must not stop the sampling that
reports it. Each sample goes to ``sink`` (a plain callable, called on the sampler thread; the
runner's posts it to the collector) and is kept for the report ``stop`` returns.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping

from simulator.ledger import GeneratorReport, LagSummary
from simulator.watch.lag import PROBE_INTERVAL_S, LoopLagProbe
from simulator.watch.model import GeneratorSample
from simulator.watch.process import ProcessMeter
from simulator.watch.saturation import SaturationRule

log = logging.getLogger(__name__)

Sink = Callable[[GeneratorSample], None]
DEFAULT_INTERVAL_S = 2.0


def _now_ms() -> int:
    return int(time.time() * 1000)


class GeneratorWatch:
    """Watch this process (``process`` is its label, e.g. ``run-<pid>``) and ``loops`` by name."""

    def __init__(
        self,
        process: str,
        loops: Mapping[str, asyncio.AbstractEventLoop],
        *,
        sink: Sink | None = None,
        interval_s: float = DEFAULT_INTERVAL_S,
        probe_interval_s: float = PROBE_INTERVAL_S,
        rule: SaturationRule | None = None,
        meter: ProcessMeter | None = None,
        probes: Mapping[str, LoopLagProbe] | None = None,
        clock_ms: Callable[[], int] = _now_ms,
        monotonic: Callable[[], float] = time.monotonic,
        run_id: str | None = None,
    ) -> None:
        self.process = process
        self.pid = os.getpid()
        self.hostname = socket.gethostname()
        self.run_id = run_id
        self.interval_s = interval_s
        self.rule = rule or SaturationRule()
        self._sink = sink
        self._meter = meter or ProcessMeter()
        self._clock_ms = clock_ms
        self._monotonic = monotonic
        self._last_sample_at = monotonic()
        self._probes: dict[str, LoopLagProbe] = dict(probes or {})
        for name, loop in loops.items():
            self._probes.setdefault(name, LoopLagProbe(loop, interval_s=probe_interval_s))
        self._lags_s: dict[str, list[float]] = {name: [] for name in self._probes}
        self.samples: list[GeneratorSample] = []
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start the probes on their loops and the sampler thread."""
        for probe in self._probes.values():
            probe.start()
        self._meter.cpu_cores()  # the first sample's interval starts now
        self._last_sample_at = self._monotonic()
        self._thread = threading.Thread(
            target=self._sample_forever, name=f"generator-watch-{self.process}", daemon=True
        )
        self._thread.start()

    def stop(self) -> GeneratorReport:
        """Stop sampling and judge the whole run. A last, partial sample is taken if at least
        half an interval is left unsampled (a shorter one would read CPU from a few clock
        ticks)."""
        if self._thread is not None:
            self._stopping.set()
            self._thread.join(self.interval_s + 5.0)
            self._thread = None
            if self._monotonic() - self._last_sample_at >= self.interval_s / 2:
                self.sample()
        for probe in self._probes.values():
            probe.stop()
        return self.report()

    def _sample_forever(self) -> None:
        while not self._stopping.wait(self.interval_s):
            try:
                self.sample()
            except Exception:  # a failing sample is logged; the next one tries again
                log.exception("generator watch %s: sampling failed", self.process)

    # -- sampling ----------------------------------------------------------------------------
    def sample(self) -> GeneratorSample:
        """Take one sample now: the loops' lag since the last one, CPU, RSS; send it to the sink."""
        with self._lock:
            loops: dict[str, LagSummary] = {}
            for name, probe in self._probes.items():
                lags = probe.drain()
                self._lags_s[name].extend(lags)
                loops[name] = LagSummary.of(lags)
            cores = self._meter.cpu_cores()
            loop_cpu = {
                name: self._meter.thread_cores(probe.thread_id)
                for name, probe in self._probes.items()
                if probe.thread_id is not None
            }
            self._last_sample_at = self._monotonic()
            sample = GeneratorSample(
                timestamp_ms=self._clock_ms(),
                process=self.process,
                pid=self.pid,
                hostname=self.hostname,
                cpu_cores=cores,
                rss_kb=self._meter.rss_kb(),
                loops=loops,
                saturated=self.rule.sample_saturated(loop_cpu, loops),
                run_id=self.run_id,
                loop_cpu_cores=loop_cpu,
            )
            self.samples.append(sample)
        if self._sink is not None:
            try:
                self._sink(sample)
            except Exception:
                log.exception("generator watch %s: the sink refused a sample", self.process)
        return sample

    def report(self) -> GeneratorReport:
        """Everything sampled so far, judged by the saturation rule."""
        with self._lock:
            samples = list(self.samples)
            loops = {name: LagSummary.of(lags) for name, lags in self._lags_s.items()}
        cpu = [s.cpu_cores for s in samples]
        loop_cpu: dict[str, list[float]] = {}
        for s in samples:
            for name, cores in s.loop_cpu_cores.items():
                loop_cpu.setdefault(name, []).append(cores)
        worst = max(loops.values(), key=lambda lag: lag.p95_ms, default=LagSummary())
        reasons = self.rule.reasons(loop_cpu, loops)
        return GeneratorReport(
            process=self.process,
            pid=self.pid,
            hostname=self.hostname,
            samples=len(samples),
            loop_lag_p50_ms=worst.p50_ms,
            loop_lag_p95_ms=worst.p95_ms,
            loop_lag_max_ms=max((lag.max_ms for lag in loops.values()), default=0.0),
            cpu_avg_cores=round(sum(cpu) / len(cpu), 4) if cpu else 0.0,
            cpu_max_cores=round(max(cpu, default=0.0), 4),
            rss_max_kb=max((s.rss_kb for s in samples), default=0),
            saturated=bool(reasons),
            reasons=reasons,
            loops=loops,
            loop_cpu_max_cores={name: round(max(v), 4) for name, v in loop_cpu.items()},
        )
