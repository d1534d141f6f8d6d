"""What an impairment is, independent of the depth that applies it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum


class Direction(StrEnum):
    """Which way packets travel, seen from the peer (the values of the scenario's ``direction``)."""

    UP = "up"  # peer -> media server
    DOWN = "down"  # media server -> peer
    BOTH = "both"


@dataclass(frozen=True)
class Impairment:
    """One direction of a link: random loss, one-way delay with jitter, and a rate cap.

    ``queue_ms`` is the depth of the bottleneck's buffer when ``rate_kbps`` caps the link: a
    packet that would wait longer than that is tail-dropped, as a router's buffer does (tbf
    calls it ``latency``). Without a rate cap it has no effect.
    """

    loss_pct: float = 0.0
    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    rate_kbps: float | None = None
    queue_ms: float = 200.0

    def __post_init__(self) -> None:
        for name in ("loss_pct", "delay_ms", "jitter_ms", "queue_ms"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if self.loss_pct > 100:
            raise ValueError(f"loss_pct must be at most 100, got {self.loss_pct!r}")
        if self.rate_kbps is not None and (
            not math.isfinite(self.rate_kbps) or self.rate_kbps <= 0
        ):
            raise ValueError(f"rate_kbps must be > 0 or None (unlimited), got {self.rate_kbps!r}")

    @property
    def is_none(self) -> bool:
        """True when this lets every packet through untouched."""
        return (
            self.loss_pct == 0
            and self.delay_ms == 0
            and self.jitter_ms == 0
            and self.rate_kbps is None
        )

    @property
    def needs_delay(self) -> bool:
        return self.delay_ms > 0 or self.jitter_ms > 0


NONE = Impairment()
"""A perfect link."""

SILENT = Impairment(loss_pct=100.0)
"""A link that carries nothing: the peer has vanished."""


def split(impairment: Impairment, direction: Direction) -> tuple[Impairment, Impairment]:
    """``(up, down)`` for an impairment the scenario applies in ``direction``."""
    up = impairment if direction in (Direction.UP, Direction.BOTH) else NONE
    down = impairment if direction in (Direction.DOWN, Direction.BOTH) else NONE
    return up, down
