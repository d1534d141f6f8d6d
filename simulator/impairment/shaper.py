"""The decision for one packet on one impaired link: drop it, or when it arrives.

Pure logic with the time passed in, so it can be tested without an event loop and reused by
anything that moves datagrams. The asyncio plumbing lives in ``inprocess``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import Enum

from simulator.impairment.model import NONE, Impairment

# Burst a rate-capped link lets through at line speed after being idle: about what tbf's
# ``burst`` is set to for these rates. Big enough for a video key frame's first packets,
# small enough that the cap holds over any window longer than a few tens of milliseconds.
MIN_BURST_BYTES = 3_000
BURST_S = 0.010


class Verdict(Enum):
    PASS = "pass"
    LOSS = "loss"  # random loss (or a silenced link)
    QUEUE = "queue"  # the rate cap's buffer is full: tail drop


@dataclass
class LinkCounters:
    """Packets one direction of a peer's link saw, summed over its transports.

    ``offered`` every packet handed to the link; ``passed`` packets delivered; ``delayed``
    packets held back before delivery (by delay, jitter or the rate cap's queue; a subset of
    the ones that were or will be passed); ``dropped_loss`` random loss and silence;
    ``dropped_queue`` tail drops of the rate cap; ``send_errors`` held-back packets the
    transport refused when their time came (it had closed meanwhile). Packets still held back
    are ``in_flight``.
    """

    offered: int = 0
    passed: int = 0
    delayed: int = 0
    dropped_loss: int = 0
    dropped_queue: int = 0
    send_errors: int = 0
    bytes_passed: int = 0

    @property
    def dropped(self) -> int:
        return self.dropped_loss + self.dropped_queue

    @property
    def in_flight(self) -> int:
        return self.offered - self.passed - self.dropped - self.send_errors

    def copy(self) -> LinkCounters:
        return LinkCounters(
            self.offered,
            self.passed,
            self.delayed,
            self.dropped_loss,
            self.dropped_queue,
            self.send_errors,
            self.bytes_passed,
        )


class LinkShaper:
    """Random loss, then a rate cap with a finite buffer, then delay with jitter.

    The order is the one of a real path: a packet lost before the bottleneck takes no room in
    its queue, and propagation delay comes after the bottleneck. The rate cap is a token
    bucket in its virtual-time form (GCRA): ``_tat`` is when the link will have sent
    everything admitted so far. Jitter is drawn per packet and uniform in ``±jitter_ms``
    (netem's default without a distribution table), so packets may overtake each other as
    they do on a real jittery path.
    """

    def __init__(self, rng: random.Random, impairment: Impairment = NONE) -> None:
        self._rng = rng
        self._impairment = impairment
        self._tat = 0.0

    @property
    def impairment(self) -> Impairment:
        return self._impairment

    @impairment.setter
    def impairment(self, impairment: Impairment) -> None:
        if impairment.rate_kbps is None:
            self._tat = 0.0  # no backlog survives lifting the cap
        self._impairment = impairment

    def admit(self, size_bytes: int, now_s: float) -> tuple[Verdict, float]:
        """The verdict for a packet of ``size_bytes`` offered at ``now_s`` and, when it
        passes, the time it is due at the far end (``>= now_s``)."""
        imp = self._impairment
        if imp.loss_pct >= 100 or (imp.loss_pct > 0 and self._rng.random() * 100 < imp.loss_pct):
            return Verdict.LOSS, now_s
        departure = now_s
        if imp.rate_kbps is not None:
            rate_bytes_s = imp.rate_kbps * 1000 / 8
            burst_s = max(MIN_BURST_BYTES / rate_bytes_s, BURST_S)
            tat = max(self._tat, now_s)
            departure = max(now_s, tat - burst_s)
            if departure - now_s > imp.queue_ms / 1000:
                return Verdict.QUEUE, now_s
            self._tat = tat + size_bytes / rate_bytes_s
        delay_ms = imp.delay_ms
        if imp.jitter_ms > 0:
            delay_ms += self._rng.uniform(-imp.jitter_ms, imp.jitter_ms)
        return Verdict.PASS, departure + max(0.0, delay_ms) / 1000
