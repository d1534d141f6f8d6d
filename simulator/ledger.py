"""The ledger: what the simulator really did and saw, written beside the run's results.

It is the ground truth the assertions hold the collector's documents against, so it is built
only from the simulator's own actions and aiortc counters, never from the collector.

A start or an end the server dates itself (a Janus event) happened between a request the
simulator sent and the answer it read: a stamp taken on either side alone is off by the round
trip and by the loop's lag, seconds on a saturated generator. So such moments are kept as a
window: the ``*_asked_ms`` or ``negotiated_ms`` stamp before, the plain one after (or
``ended_ms`` before and ``end_answered_ms`` after); the checks hold the server's time to it.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class MediaCounters:
    frames: int = 0
    packets: int = 0
    bytes: int = 0


@dataclass
class SentLayerRecord:
    """One simulcast layer a publisher sent (``peers.simulcast``)."""

    rid: str
    substream: int
    width: int
    height: int
    fps: int
    target_bitrate_bps: int
    frames: int = 0
    packets: int = 0
    bytes: int = 0
    keyframes: int = 0
    keyframe_requests: int = 0
    keyframe_answer_max_ms: float | None = None
    keyframe_answer_max_frames: int | None = None
    active: list[list[int | None]] = field(default_factory=list)
    """``[from ms, to ms]`` while the layer was sent (congestion switches layers off)."""
    samples: list[list[int]] = field(default_factory=list)
    """``[ms, payload bytes of VP8 temporal layer 0, 1, 2, frames of 0, 1, 2]``, cumulative,
    once a second."""


@dataclass
class KeyframeRecord:
    """Key frame requests (PLI/FIR) a cheap publisher's video answered."""

    requests: int = 0
    answered: int = 0
    answer_max_ms: float | None = None
    answer_max_frames: int | None = None
    """Frames sent between a request and its key frame (0: the very next frame)."""


@dataclass
class PublicationRecord:
    stream_id: str
    audio: bool
    video: bool
    width: int | None
    height: int | None
    fps: int | None
    started_ms: int
    ice_connected_ms: int | None = None
    negotiated_ms: int | None = None
    """The publisher had the server's answer: the server's start is not before this."""
    ended_ms: int | None = None
    end: str | None = None
    end_answered_ms: int | None = None
    """The goodbye was answered: the server's end is between ``ended_ms`` and this."""
    sent: dict[str, MediaCounters] = field(default_factory=dict)
    simulcast: bool = False
    simulcast_accepted: bool | None = None
    """The server took the video as simulcast (Janus's ``configured`` reply marked it so;
    LiveKit's ``TrackInfo`` listed its layers)."""
    server_layers: list[str] = field(default_factory=list)
    """The rids of the layers the server registered, lowest first (LiveKit's
    ``TrackInfo.layers``; Janus's reply names none, so empty there)."""
    layers: list[SentLayerRecord] = field(default_factory=list)
    keyframes: KeyframeRecord | None = None
    talk_spurts: list[list[int]] = field(default_factory=list)
    """``[from ms, to ms]`` while the publisher spoke (talk spurts; empty: no pattern)."""


@dataclass
class LayerRequestRecord:
    at_ms: int
    substream: int | None
    temporal: int | None


@dataclass
class LayerPeriodRecord:
    """A stretch of a subscription on one simulcast layer, as Janus reported it
    (``peers.layer_tracking``); ``settled_*`` count from a second after it began."""

    substream: int | None
    temporal: int | None
    from_ms: int
    to_ms: int | None = None
    requested_ms: int | None = None
    width: int | None = None
    height: int | None = None
    frames: int = 0
    bytes: int = 0
    keyframes: int = 0
    settled_from_ms: int | None = None
    settled_frames: int = 0
    settled_bytes: int = 0


@dataclass
class TalkingRecord:
    """A VideoRoom ``talking`` / ``stopped-talking`` notification a participant received."""

    at_ms: int
    feed: str
    talking: bool
    level_dbov: float | None = None


@dataclass
class ReceptionRecord:
    """RTP one subscription received on one media kind's own stream (retransmissions, which
    come on the RTX stream, aside): so ``lost`` is the loss before NACK repaired it, as a
    browser's ``packetsLost``; ``jitter_ms`` the interarrival jitter (RFC 3550 §6.4.1)."""

    expected: int = 0
    lost: int = 0
    jitter_ms: float = 0.0


@dataclass
class LatencyRecord:
    """One-way latency of a subscription's video frames, publisher's send to this arrival
    (``peers.latency``): over every frame matched, and as a histogram of whole milliseconds
    (``[[ms, frames], ...]``) so subscriptions pool into a run's percentiles."""

    frames: int
    unmatched: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    max_ms: float | None = None
    histogram: list[list[int]] = field(default_factory=list)


@dataclass
class SubscriptionRecord:
    publisher: str
    receiving_from: str
    stream_id: str
    started_ms: int
    ice_connected_ms: int | None = None
    negotiated_ms: int | None = None
    """The subscriber sent its answer: the server's start is not before this."""
    first_frame_ms: int | None = None
    ended_ms: int | None = None
    end: str | None = None
    end_answered_ms: int | None = None
    bytes_received: int = 0
    received: dict[str, MediaCounters] = field(default_factory=dict)
    layer_requests: list[LayerRequestRecord] = field(default_factory=list)
    layers: list[LayerPeriodRecord] = field(default_factory=list)
    reception: dict[str, ReceptionRecord] = field(default_factory=dict)
    latency: LatencyRecord | None = None


@dataclass
class ConnectionRecord:
    """One OpenVidu connection: a join until its end (leave, drop, kick, room destroyed)."""

    connection_id: str
    session_id: str
    server_id: str | None = None
    """The id the server's events name the connection by, when not ``connection_id`` (LiveKit:
    the participant SID): the documents' ``connectionId``."""
    joined_ms: int | None = None
    join_asked_ms: int | None = None
    left_ms: int | None = None
    leave_asked_ms: int | None = None
    end: str | None = None
    publications: list[PublicationRecord] = field(default_factory=list)
    subscriptions: list[SubscriptionRecord] = field(default_factory=list)
    sdp_candidates: list[str] = field(default_factory=list)
    impairments: list[dict[str, Any]] = field(default_factory=list)
    signals_sent: int = 0
    talking: list[TalkingRecord] = field(default_factory=list)
    noticed_ms: int | None = None
    """A dropped connection: when the runner saw the server no longer list it."""


@dataclass
class ParticipantRecord:
    """One synthetic user; a rejoin adds a connection, as OpenVidu's userSummary has them."""

    name: str
    user_id: str
    room: str
    location: str
    platform: str
    connections: list[ConnectionRecord] = field(default_factory=list)

    @property
    def current(self) -> ConnectionRecord:
        if not self.connections:
            raise RuntimeError(f"{self.name} never joined")
        return self.connections[-1]

    @property
    def publications(self) -> list[PublicationRecord]:
        return [p for c in self.connections for p in c.publications]

    @property
    def subscriptions(self) -> list[SubscriptionRecord]:
        return [s for c in self.connections for s in c.subscriptions]

    @property
    def sdp_candidates(self) -> list[str]:
        return [a for c in self.connections for a in c.sdp_candidates]


@dataclass
class StepRecord:
    index: int
    do: str
    who: str
    label: str | None
    planned_at_s: float
    started_ms: int
    ended_ms: int | None = None
    ok: bool = False
    error: str | None = None


@dataclass
class SessionRecord:
    room: str
    session_id: str
    created_ms: int | None = None
    create_asked_ms: int | None = None
    closed_ms: int | None = None
    close_asked_ms: int | None = None
    destroyed_by_server: bool = False
    end: str | None = None
    """Set when the session ended for a reason of its own (``mediaServerDisconnect``)."""


@dataclass
class RecordingRecord:
    """One recording: what was asked, when it ran, what ended on disk (or why nothing did)."""

    recording_id: str
    room: str
    session_id: str
    name: str
    output_mode: str
    has_audio: bool
    has_video: bool
    resolution: str | None
    frame_rate: int | None
    started_ms: int
    stopped_ms: int | None = None
    reason: str | None = None
    status: str = "started"
    folder: str | None = None
    files: list[str] = field(default_factory=list)
    size: int = 0
    duration_s: float = 0.0
    processing_s: float | None = None
    error: str | None = None


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of ``values``; 0.0 when there are none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class LagSummary:
    """Oversleeps of one loop's probe, in ms."""

    p50_ms: float = 0.0
    p95_ms: float = 0.0
    max_ms: float = 0.0
    wakeups: int = 0

    @classmethod
    def of(cls, lags_s: Sequence[float]) -> LagSummary:
        return cls(
            p50_ms=round(percentile(lags_s, 50) * 1000, 2),
            p95_ms=round(percentile(lags_s, 95) * 1000, 2),
            max_ms=round(max(lags_s, default=0.0) * 1000, 2),
            wakeups=len(lags_s),
        )


@dataclass
class GeneratorReport:
    """A whole run of one process: what the watch saw and whether the process was saturated."""

    process: str
    pid: int
    hostname: str
    samples: int = 0
    loop_lag_p50_ms: float = 0.0
    loop_lag_p95_ms: float = 0.0
    loop_lag_max_ms: float = 0.0
    cpu_avg_cores: float = 0.0
    cpu_max_cores: float = 0.0
    rss_max_kb: int = 0
    saturated: bool = False
    reasons: list[str] = field(default_factory=list)
    loops: dict[str, LagSummary] = field(default_factory=dict)
    """Per watched loop (``media``, ``runner``); the ``loop_lag_*`` fields are the worst's."""
    loop_cpu_max_cores: dict[str, float] = field(default_factory=dict)
    """Per watched loop: the most CPU its thread used in one sample."""


@dataclass
class ServerRecord:
    """The media server a run played against, and what its own events report (names of
    ``simulator.driver.capabilities.ServerReport``): the checks hold the documents against the
    ledger only where the server could have produced them, and say so where it could not."""

    name: str = "janus"
    reports: list[str] = field(default_factory=lambda: ["media_stats", "ice_events", "subscribers"])
    drop_noticed_within_s: float = 64.0
    """By when the server has surely let a dropped participant go."""
    client_reports: list[str] = field(default_factory=list)
    """What the simulator posted in the server's stead (``ice_events``: each endpoint's ICE
    from the client's own peer connection, ``player.client_side``), so the checks expect it."""


@dataclass
class Ledger:
    run_id: str
    scenario: str
    seed: int
    started_ms: int
    ended_ms: int | None = None
    sessions: dict[str, SessionRecord] = field(default_factory=dict)
    participants: dict[str, ParticipantRecord] = field(default_factory=dict)
    steps: list[StepRecord] = field(default_factory=list)
    recordings: list[RecordingRecord] = field(default_factory=list)
    media_server_lost: str | None = None
    """Why the run stopped early: the media server stopped answering (``run.health``)."""
    media_server_lost_ms: int | None = None
    generator: list[GeneratorReport] = field(default_factory=list)
    """The generator's self-watch, one report per process (``simulator.watch``)."""
    server: ServerRecord = field(default_factory=ServerRecord)
    host_samples_ms: list[int] = field(default_factory=list)
    """The ``monitoringStats`` the collector took on the run's demand, by their timestamps:
    one when it started and one when it ended (``simulator.player.host_sample``)."""

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(orjson.dumps(self.as_dict(), option=orjson.OPT_INDENT_2))

    @classmethod
    def read(cls, path: Path) -> Ledger:
        from pydantic import TypeAdapter

        return TypeAdapter(cls).validate_json(path.read_bytes())

    def document_ids(self) -> dict[str, str]:
        """Connection ids as the documents name them (``ConnectionRecord.server_id``), for
        every connection whose server names it otherwise."""
        return {
            c.connection_id: c.server_id
            for p in self.participants.values()
            for c in p.connections
            if c.server_id is not None and c.server_id != c.connection_id
        }

    def as_documented(self) -> Ledger:
        """This ledger with every connection named as the documents name it (``document_ids``:
        LiveKit's participant SIDs), subscriptions' ``receiving_from`` too; the checks hold the
        documents against this one. Itself when the server names connections as rtcsim does."""
        ids = self.document_ids()
        if not ids:
            return self
        renamed = copy.deepcopy(self)
        for participant in renamed.participants.values():
            for conn in participant.connections:
                conn.connection_id = ids.get(conn.connection_id, conn.connection_id)
                for sub in conn.subscriptions:
                    sub.receiving_from = ids.get(sub.receiving_from, sub.receiving_from)
        return renamed

    @property
    def failed_steps(self) -> list[StepRecord]:
        return [step for step in self.steps if not step.ok]
