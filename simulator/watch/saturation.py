"""When a generator process was saturated, so that its run says nothing about the media server.

The rule (documented in the README's load section too); either part suffices:

* **Event-loop lag.** The 95th percentile of the probe's oversleep on any watched loop is above
  ``lag_p95_ms`` (100 ms). A loop that late leaves packets in the UDP socket buffer for 100 ms
  and more: at a few Mbit/s the kernel's default receive buffer (~208 kB) then overflows and
  drops them, which the run would report as network loss; timers (RTCP, NACK, the frame
  pacing of publishers) fire late and jitter appears that the server never caused. 100 ms is
  three 30 fps frames or five 20 ms audio packets: well past scheduling noise (a healthy loop
  wakes within a few ms) and still short of aiortc's jitter buffer horizon.
* **A loop's thread at one core.** The thread that runs a watched loop used at least
  ``cpu_cores`` (0.9) of a core in more than ``cpu_fraction`` (a quarter) of the samples. A
  thread runs on one core at a time and Python code holds the GIL, so at 0.9 core the loop has
  no headroom left: a burst (a keyframe, a join) makes it late at once, even if the percentile
  above has not caught it yet. The *thread's* CPU, not the process's: codec threads (libvpx,
  Opus) run without the GIL in parallel, and a live run at 1.0 process core can have a
  perfectly punctual loop. A quarter of the samples, not one, so a start-up burst (clips
  loaded, peers created) does not void a run. The process's CPU is reported, not judged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from simulator.ledger import LagSummary


@dataclass(frozen=True)
class SaturationRule:
    lag_p95_ms: float = 100.0
    cpu_cores: float = 0.9
    cpu_fraction: float = 0.25

    def sample_saturated(
        self, loop_cpu_cores: Mapping[str, float], loops: Mapping[str, LagSummary]
    ) -> bool:
        """One interval over either threshold (the per-sample flag of ``generatorStats``)."""
        return any(cores >= self.cpu_cores for cores in loop_cpu_cores.values()) or any(
            lag.p95_ms > self.lag_p95_ms for lag in loops.values()
        )

    def reasons(
        self,
        loop_cpu_samples: Mapping[str, Sequence[float]],
        loops: Mapping[str, LagSummary],
    ) -> list[str]:
        """Why a whole run was saturated; empty when it was not."""
        found = [
            f"{name} event loop lag p95 {lag.p95_ms:.0f} ms > {self.lag_p95_ms:.0f} ms"
            for name, lag in sorted(loops.items())
            if lag.p95_ms > self.lag_p95_ms
        ]
        for name, samples in sorted(loop_cpu_samples.items()):
            busy = sum(1 for cores in samples if cores >= self.cpu_cores)
            if samples and busy > self.cpu_fraction * len(samples):
                found.append(
                    f"{name} event loop thread at >= {self.cpu_cores:g} core in {busy} of "
                    f"{len(samples)} samples (more than {self.cpu_fraction:.0%}; a loop's "
                    "thread tops out at one core)"
                )
        return found
