"""The ledger: what the simulator really did and saw, written beside the run's results.

It is the ground truth the assertions hold the collector's documents against, so it is built
only from the simulator's own actions and aiortc counters, never from the collector.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from simulator.watch.model import GeneratorReport


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class MediaCounters:
    frames: int = 0
    packets: int = 0
    bytes: int = 0


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
    ended_ms: int | None = None
    end: str | None = None
    sent: dict[str, MediaCounters] = field(default_factory=dict)


@dataclass
class SubscriptionRecord:
    publisher: str
    receiving_from: str
    stream_id: str
    started_ms: int
    ice_connected_ms: int | None = None
    first_frame_ms: int | None = None
    ended_ms: int | None = None
    end: str | None = None
    bytes_received: int = 0
    received: dict[str, MediaCounters] = field(default_factory=dict)


@dataclass
class ConnectionRecord:
    """One OpenVidu connection: a join until its end (leave, drop, kick, room destroyed)."""

    connection_id: str
    session_id: str
    joined_ms: int | None = None
    left_ms: int | None = None
    end: str | None = None
    publications: list[PublicationRecord] = field(default_factory=list)
    subscriptions: list[SubscriptionRecord] = field(default_factory=list)
    sdp_candidates: list[str] = field(default_factory=list)
    impairments: list[dict[str, Any]] = field(default_factory=list)
    signals_sent: int = 0
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
    closed_ms: int | None = None
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

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(orjson.dumps(self.as_dict(), option=orjson.OPT_INDENT_2))

    @classmethod
    def read(cls, path: Path) -> Ledger:
        from pydantic import TypeAdapter

        return TypeAdapter(cls).validate_json(path.read_bytes())

    @property
    def failed_steps(self) -> list[StepRecord]:
        return [step for step in self.steps if not step.ok]
