"""The arithmetic of benchmarks 1 and 2: windows from snapshots, health, and the ramp's knee.

Pure functions of what the workers report (``bench.generator_worker`` and the pion baseline
speak the same snapshot protocol), so the same figures come out of either, and the logic is
tested without a stack.

A *window* is the difference of two snapshots of one process. A receiving process is
*degraded* in a window when any of these holds (issue 16): loss > 0.5 %, loop lag p95 > 100 ms
(the asyncio loop's for rtcsim, a Go ticker's for pion), video below 29 fps per stream, or the
process's saturation flag (``GeneratorWatch``: its loop's thread at a full core). A publishing
process is healthy when every publisher sent >= 29 fps and its loop was neither late nor
saturated: that is the proof that the sending side did not limit a window.

The ramp has no top step: it grows the count by half until a window degrades, then bisects between
the last healthy count and the first degraded one to ``resolution``; the knee is the largest
count whose window was healthy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_LOSS_PCT = 0.5
MAX_LAG_P95_MS = 100.0
MIN_FPS = 29.0


@dataclass(frozen=True)
class Window:
    """What one receiving process did between two snapshots."""

    streams: int
    seconds: float
    cores: float
    loss_pct: float
    streams_over_loss: int
    kbps_per_stream: float
    video_fps_per_stream: float
    video_fps_min: float
    lag_p95_ms: float
    saturated: bool
    reasons: tuple[str, ...] = ()

    def degraded(self) -> list[str]:
        """Why this window is past the knee; empty when healthy."""
        why = []
        if self.loss_pct > MAX_LOSS_PCT:
            why.append(f"loss {self.loss_pct:.2f} % > {MAX_LOSS_PCT} %")
        if self.lag_p95_ms > MAX_LAG_P95_MS:
            why.append(f"lag p95 {self.lag_p95_ms:.0f} ms > {MAX_LAG_P95_MS:.0f} ms")
        if self.video_fps_per_stream < MIN_FPS:
            why.append(f"video {self.video_fps_per_stream:.1f} fps < {MIN_FPS:g}")
        if self.saturated:
            why.append("saturated: " + "; ".join(self.reasons))
        return why

    @property
    def streams_per_core(self) -> float:
        return self.streams / self.cores if self.cores > 0 else 0.0

    def brief(self) -> dict[str, Any]:
        return {
            "streams": self.streams,
            "cores": round(self.cores, 3),
            "streams_per_core": round(self.streams_per_core, 1),
            "loss_pct": round(self.loss_pct, 3),
            "lag_p95_ms": round(self.lag_p95_ms, 1),
            "video_fps_per_stream": round(self.video_fps_per_stream, 2),
            "video_fps_min": round(self.video_fps_min, 2),
            "kbps_per_stream": round(self.kbps_per_stream, 1),
            "saturated": self.saturated,
            "degraded": self.degraded(),
            "seconds": round(self.seconds, 1),
        }


def _deltas(before: Mapping[str, Any], after: Mapping[str, Any], key: str) -> list[int]:
    """Per-stream increase of ``key``; streams are only ever added or removed at the end, and
    never between a window's two snapshots, so the common prefix is the same streams."""
    old, new = before.get(key, []), after.get(key, [])
    return [b - a for a, b in zip(old, new, strict=False)]


def receive_window(before: Mapping[str, Any], after: Mapping[str, Any]) -> Window:
    """The window between two snapshots of a receiving process."""
    seconds = float(after["at"]) - float(before["at"])
    if seconds <= 0:
        raise ValueError(f"a window needs time to pass (got {seconds:.3f} s)")
    expected = _deltas(before, after, "expected")
    received = _deltas(before, after, "received")
    frames = _deltas(before, after, "video_frames")
    payload = _deltas(before, after, "bytes")
    n = len(expected)
    lost = [max(0, e - r) for e, r in zip(expected, received, strict=True)]
    over = sum(
        1 for lo, e in zip(lost, expected, strict=True) if not e or lo * 100 > MAX_LOSS_PCT * e
    )
    fps = [f / seconds for f in frames]
    return Window(
        streams=n,
        seconds=seconds,
        cores=(float(after["cpu_s"]) - float(before["cpu_s"])) / seconds,
        loss_pct=100 * sum(lost) / max(1, sum(expected)),
        streams_over_loss=over,
        kbps_per_stream=sum(payload) * 8 / seconds / max(1, n) / 1000,
        video_fps_per_stream=sum(fps) / n if n else 0.0,
        video_fps_min=min(fps) if fps else 0.0,
        lag_p95_ms=float(after.get("lag_p95_ms", 0.0)),
        saturated=bool(after.get("saturated", False)),
        reasons=tuple(after.get("reasons", ())),
    )


@dataclass(frozen=True)
class PublisherWindow:
    """What one publishing process did between two snapshots: its own health."""

    publishers: int
    cores: float
    fps_min: float
    lag_p95_ms: float
    saturated: bool
    disconnected: int = 0

    def degraded(self) -> list[str]:
        why = []
        if self.disconnected:
            why.append(f"{self.disconnected} publisher connections down")
        if self.fps_min < MIN_FPS:
            why.append(f"a publisher sent {self.fps_min:.1f} fps < {MIN_FPS:g}")
        if self.lag_p95_ms > MAX_LAG_P95_MS:
            why.append(f"publisher loop lag p95 {self.lag_p95_ms:.0f} ms")
        if self.saturated:
            why.append("publisher process saturated")
        return why

    def brief(self) -> dict[str, Any]:
        return {
            "publishers": self.publishers,
            "cores": round(self.cores, 3),
            "fps_min": round(self.fps_min, 2),
            "lag_p95_ms": round(self.lag_p95_ms, 1),
            "saturated": self.saturated,
            "disconnected": self.disconnected,
        }


def publish_window(before: Mapping[str, Any], after: Mapping[str, Any]) -> PublisherWindow:
    seconds = float(after["at"]) - float(before["at"])
    if seconds <= 0:
        raise ValueError(f"a window needs time to pass (got {seconds:.3f} s)")
    sent = _deltas(before, after, "frames_sent")
    return PublisherWindow(
        publishers=len(sent),
        cores=(float(after["cpu_s"]) - float(before["cpu_s"])) / seconds,
        fps_min=min(sent) / seconds if sent else 0.0,
        lag_p95_ms=float(after.get("lag_p95_ms", 0.0)),
        saturated=bool(after.get("saturated", False)),
        disconnected=sum(1 for up in after.get("connected", []) if not up),
    )


@dataclass
class Ramp:
    """The counts to try, one at a time: ``next()`` after each ``record``."""

    first: int = 100
    growth: float = 1.5
    """Each count this much over the last healthy one until one degrades."""
    resolution: float = 0.1
    """Stop bisecting when the gap is at most this fraction of the healthy count..."""
    min_gap: int = 20
    """...or this many streams, whichever is larger."""
    quantum: int = 10
    limit: int = 20_000
    """A safety bound, far past anything one machine carries, not a top step."""
    tried: list[tuple[int, bool]] = field(default_factory=list)

    @property
    def healthy(self) -> int:
        """The largest healthy count below every degraded one (0: none yet)."""
        low = self.degraded
        good = [n for n, ok in self.tried if ok and (low is None or n < low)]
        return max(good, default=0)

    @property
    def degraded(self) -> int | None:
        """The smallest degraded count, if any."""
        return min((n for n, ok in self.tried if not ok), default=None)

    def record(self, count: int, healthy: bool) -> None:
        self.tried.append((count, healthy))

    def next(self) -> int | None:
        """The next count to try, or None when the knee is found (or the limit reached)."""
        if not self.tried:
            return self.first
        high, low = self.degraded, self.healthy
        if high is None:
            grown = max(round(low * self.growth / self.quantum) * self.quantum, low + self.quantum)
            return grown if grown <= self.limit else None
        if high - low <= max(self.min_gap, self.resolution * low):
            return None
        middle = (low + high) // 2 // self.quantum * self.quantum
        if middle <= low or middle >= high:
            return None
        return middle

    @property
    def knee(self) -> int:
        return self.healthy


def summarize(windows: Sequence[Window]) -> dict[str, Any]:
    """Streams, cores and streams per core of several processes measured side by side."""
    streams = sum(w.streams for w in windows)
    cores = sum(w.cores for w in windows)
    return {
        "streams": streams,
        "cores": round(cores, 3),
        "streams_per_core": round(streams / cores, 1) if cores > 0 else 0.0,
    }
