"""The soak's verdict, a pure function of the samples, the visits and the bounds.

A leak shows as a level that keeps rising while the load stays the same. Start-up is not a
leak (imports, caches, the first batches, the HTTP clients' pools), so the first
``warmup_fraction`` of the run is left out; what remains is cut in thirds and the *peak* of the
last third is compared with the peak of the first. Peaks rather than means or single samples:
a garbage-collection cycle or a burst of documents moves one sample, not a window's peak, and
a leak lifts every later peak.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

MB_KB = 1024


@dataclass(frozen=True)
class Sample:
    """One look at the collector, ``t_s`` seconds after the load started."""

    t_s: float
    rss_kb: int
    fds: int
    open_sessions: int | None = None  # from the collector's /health, for the record
    journal_bytes: int | None = None


@dataclass(frozen=True)
class Visits:
    """Locust's counts for the run: a visit is one ``join``, a cycle one that ``leave``-d."""

    joins: int
    leaves: int
    requests: int
    failures: int


@dataclass(frozen=True)
class Bounds:
    """What a soak may show and still pass (stated in README.md, "Soak")."""

    rss_growth_kb: int = 16 * MB_KB
    """Peak RSS of the last third minus that of the first third (after warm-up)."""
    rss_growth_ratio: float = 0.10
    """The same growth, as a share of the first third's peak; both limits apply."""
    rss_max_kb: int = 256 * MB_KB
    """No sample above this, warm-up included."""
    fd_growth: int = 10
    """Peak open descriptors of the last third minus those of the first."""
    warmup_fraction: float = 0.3
    min_cycles_per_user_minute: float = 2.0
    """Completed visits (``leave``) per user and minute of load: the soak must really churn."""
    max_failure_ratio: float = 0.10
    """Failed locust requests (join, ice_connected, first_frame, leave) per request."""


@dataclass(frozen=True)
class Growth:
    metric: str
    first: int  # peak of the first third after warm-up
    last: int  # peak of the last third
    limit: int

    @property
    def growth(self) -> int:
        return self.last - self.first

    @property
    def ok(self) -> bool:
        return self.growth <= self.limit


@dataclass(frozen=True)
class Verdict:
    passed: bool
    problems: list[str] = field(default_factory=list)
    growth: list[Growth] = field(default_factory=list)
    rss_peak_kb: int = 0
    cycles: int = 0
    min_cycles: int = 0

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        body["growth"] = [{**asdict(g), "growth": g.growth, "ok": g.ok} for g in self.growth]
        return body


def windows(samples: list[Sample], warmup_fraction: float) -> tuple[list[Sample], list[Sample]]:
    """The first and last thirds of the samples taken after the warm-up."""
    if not samples:
        return [], []
    end = samples[-1].t_s
    start = end * warmup_fraction
    third = (end - start) / 3
    first = [s for s in samples if start <= s.t_s <= start + third]
    last = [s for s in samples if s.t_s >= end - third]
    return first, last


def judge(
    samples: list[Sample],
    visits: Visits,
    bounds: Bounds,
    *,
    users: int,
    load_minutes: float,
    restarted: bool = False,
) -> Verdict:
    """Pass, or every bound broken, each named with its measured value."""
    problems: list[str] = []
    if restarted:
        problems.append("the collector's process changed during the soak (it died or restarted)")
    first, last = windows(samples, bounds.warmup_fraction)
    growth: list[Growth] = []
    if not first or not last or first == last:
        problems.append(
            f"too few samples to judge growth ({len(samples)}): sample more often or soak longer"
        )
    else:
        rss_first = max(s.rss_kb for s in first)
        rss_limit = min(bounds.rss_growth_kb, int(rss_first * bounds.rss_growth_ratio))
        growth = [
            Growth("rss_kb", rss_first, max(s.rss_kb for s in last), rss_limit),
            Growth("fds", max(s.fds for s in first), max(s.fds for s in last), bounds.fd_growth),
        ]
        for g in growth:
            if not g.ok:
                problems.append(
                    f"{g.metric} grew by {g.growth} (peak {g.first} → {g.last}), "
                    f"more than the bound of {g.limit}"
                )
    rss_peak = max((s.rss_kb for s in samples), default=0)
    if rss_peak > bounds.rss_max_kb:
        problems.append(f"rss_kb reached {rss_peak}, above the cap of {bounds.rss_max_kb}")
    min_cycles = int(bounds.min_cycles_per_user_minute * users * load_minutes)
    if visits.leaves < min_cycles:
        problems.append(
            f"only {visits.leaves} join/leave cycles were completed, fewer than {min_cycles} "
            f"({bounds.min_cycles_per_user_minute:g} per user and minute): the soak did not churn"
        )
    if visits.requests and visits.failures > bounds.max_failure_ratio * visits.requests:
        problems.append(
            f"{visits.failures} of {visits.requests} load requests failed, more than "
            f"{bounds.max_failure_ratio:.0%}"
        )
    return Verdict(
        passed=not problems,
        problems=problems,
        growth=growth,
        rss_peak_kb=rss_peak,
        cycles=visits.leaves,
        min_cycles=min_cycles,
    )
