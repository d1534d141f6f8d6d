"""The report's numbers: frozen dataclasses, nothing but values.

One class per panel of OpenVidu Pro's Sessions and Recordings dashboards
(shared/reference/openvidu-documents.md §7.3), so the renderer and the tests read the same
structure. Times are ms since the epoch, durations in the unit their name says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Scope:
    """What a report covers: a run's sessions (and the host's samples in its window), or every
    document in a time range when ``session_ids`` is empty."""

    start_ms: int
    end_ms: int
    session_ids: tuple[str, ...] = ()
    title: str = ""


@dataclass(frozen=True)
class Point:
    """One bucket of a time series: its start and the value (None: no document in it)."""

    t_ms: int
    value: float | None


@dataclass(frozen=True)
class Series:
    name: str
    unit: str
    points: tuple[Point, ...]

    @property
    def has_data(self) -> bool:
        return any(p.value is not None for p in self.points)


@dataclass(frozen=True)
class Bucket:
    """A labelled count (a terms, range or filters bucket)."""

    label: str
    count: int


@dataclass(frozen=True)
class Location:
    label: str
    lat: float
    lon: float
    connections: int


@dataclass(frozen=True)
class Latency:
    """``msSinceEndpointCreation`` of one kms event type, over every endpoint in scope."""

    event: str
    count: int
    avg_ms: float | None
    p50_ms: float | None
    p95_ms: float | None
    buckets: tuple[Bucket, ...]


@dataclass(frozen=True)
class IceEndpoints:
    """ICE per endpoint (publisher or subscriber peer connection), from its kms
    IceComponentStateChange events: how long it took to reach ``CONNECTED`` and where it ended."""

    endpoints: int
    connected_ms: tuple[float, ...]
    """Each endpoint that connected: its first CONNECTED's msSinceEndpointCreation, sorted."""
    final_states: tuple[Bucket, ...]
    """Endpoints by their last ICE state (READY, CONNECTED, FAILED, ...), most first."""

    @property
    def never_connected(self) -> int:
        return self.endpoints - len(self.connected_ms)


@dataclass(frozen=True)
class StreamStats:
    """Server-side webrtcStats of one side (publishers: what Janus received; subscribers: what it
    sent): averages over the scope and per time bucket."""

    side: str
    documents: int
    avg_jitter_ms: float | None
    avg_fraction_lost_pct: float | None
    max_packets_lost: int | None
    avg_rtt_ms: float | None
    avg_bitrate_kbps: float | None
    series: tuple[Series, ...]


@dataclass(frozen=True)
class SessionsDashboard:
    interval_ms: int
    cpu: Series
    janus_cpu: Series
    memory: Series
    host_samples: int
    sessions_per_day: tuple[Bucket, ...]
    sessions_total: int
    locations: tuple[Location, ...]
    bounds: tuple[float, float, float, float] | None  # top, left, bottom, right
    publishers: Series
    subscribers: Series
    publishers_total: int
    subscribers_total: int
    streamed_publishers: Series  # minutes per bucket
    streamed_subscribers: Series
    streamed_minutes_total: float
    candidate_pair: Latency
    ice_gathering: Latency
    ice: IceEndpoints
    connections_ok: int
    connections_failed: int
    publisher_stats: StreamStats
    subscriber_stats: StreamStats
    layer_bitrate: tuple[Series, ...] = ()
    """Per simulcast publisher and layer: kbit/s Janus received; empty without simulcast."""


@dataclass(frozen=True)
class RecordingsDashboard:
    per_day: tuple[Bucket, ...]
    total: int
    avg_duration_s: float | None
    avg_size_bytes: float | None
    total_size_bytes: int
    by_duration: tuple[Bucket, ...]
    by_size: tuple[Bucket, ...]
    by_output_mode: tuple[Bucket, ...]
    by_tracks: tuple[Bucket, ...]


@dataclass(frozen=True)
class CheckRow:
    name: str
    ok: bool
    expected: str
    found: str
    detail: str = ""


@dataclass(frozen=True)
class LedgerRow:
    """What the simulator did (ledger) next to what the documents say."""

    item: str
    ledger: int
    documents: int

    @property
    def ok(self) -> bool:
        return self.ledger == self.documents


@dataclass(frozen=True)
class RunSummary:
    """A run seen from a range report: its id, scenario and verdict."""

    run_id: str
    scenario: str
    passed: bool
    started_ms: int


@dataclass(frozen=True)
class Verdict:
    passed: bool | None  # None: a range report, no single verdict
    checks: tuple[CheckRow, ...] = ()
    ledger_rows: tuple[LedgerRow, ...] = ()
    runs: tuple[RunSummary, ...] = ()


@dataclass(frozen=True)
class Report:
    scope: Scope
    generated_ms: int
    index: str
    documents_by_type: tuple[Bucket, ...]
    sessions: SessionsDashboard
    recordings: RecordingsDashboard
    verdict: Verdict
    compute_ms: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)
    capacity: dict[str, Any] | None = None
    """A capacity search's ``capacity.json`` (``simulator.load.capacity.result``)."""
