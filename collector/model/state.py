"""The session model's state: session ▸ connection ▸ publisher/subscriber.

Plain mutable dataclasses, changed only by the model's collaborators (``collector.model``) and
the event sources that drive them (``collector.sources``). The OpenVidu vocabulary maps onto each
server as ``DESIGN.md`` says: on Janus a session is a VideoRoom room, a connection one Janus
session (one participant), a publisher what the participant's control handle publishes and a
subscriber one handle receiving one feed; on LiveKit a session is a room, a connection a
participant SID, a stream a participant's audio and video tracks.

A few fields are one server's keys (``janus_session_id``, ``control_handle_id``,
``videoroom_id``; an endpoint's ``key`` is a Janus handle id or a LiveKit track SID): the
source that set them is the one that reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from collector.documents import (
    PublisherSummary,
    RecordingStatusChanged,
    SubscriberSummary,
    unique_session_id,
)
from collector.events.janus import MediaStatsEvent
from collector.metadata import Identity, SessionInfo, StreamInfo
from collector.reasons import EndReason


class Role(StrEnum):
    PUBLISHER = "publisher"
    SUBSCRIBER = "subscriber"


@dataclass
class MediaSample:
    """The latest cumulative Janus stats of one m-line, and what was last written."""

    latest: MediaStatsEvent
    latest_ms: int
    written: MediaStatsEvent | None = None
    written_ms: int | None = None
    flowing_reported: bool = False


@dataclass
class Endpoint:
    """A WebRTC endpoint on the server: a publisher (OUTBOUND) or a subscriber (INBOUND)."""

    role: Role
    stream: StreamInfo
    connection: Connection
    key: int | str
    """What its source knows it by: a Janus handle id, a LiveKit publisher's stream."""
    created_at_ms: int
    receiving_from: str | None = None
    started_at_ms: int | None = None
    closed: bool = False
    remb_bps: int | None = None
    announced: bool = True
    """The simulator announced the stream (``POST /streams``); else its options are learned."""
    simulcast: bool = False
    """A publisher whose video Janus receives in layers (``published`` says so, or stats do)."""
    simulcast_layers: int | None = None
    """How many layers the server registered for the video, when it says so itself (LiveKit's
    ``TrackInfo.layers``); Janus's are counted from its per-layer stats (``media``)."""
    media: dict[str, MediaSample] = field(default_factory=dict)
    local_candidates: list[str] = field(default_factory=list)
    remote_candidates: list[str] = field(default_factory=list)
    gathering_done: bool = False
    ice_failed: bool = False
    """ICE reported ``failed`` and has not recovered: what Janus ends next ends for that."""
    ended_at_ms: int | None = None
    """The server ended it then, and why is not known yet: it closes when that is."""
    client_side: bool = False
    """The client reported this endpoint (``POST /subscriptions``): no server event has it."""
    substreams: list[tuple[int, int]] = field(default_factory=list)
    """A subscriber's simulcast layers, ``(substream, since ms)`` in order: the layer Janus
    relays it, as its ``substream`` events told the subscriber and the simulator passed on in
    the subscription's client video samples (``rtcsim_substream``; Janus's event handler
    reports no subscriber layer)."""

    @property
    def name(self) -> str:
        """Kurento endpoint name: the streamId, or ``<subscriberConnectionId>_<streamId>``."""
        if self.role is Role.PUBLISHER:
            return self.stream.streamId
        return f"{self.connection.connection_id}_{self.stream.streamId}"

    @property
    def stream_id(self) -> str:
        return self.stream.streamId


@dataclass
class Connection:
    """One participant (one Janus session) in one OpenVidu session."""

    connection_id: str
    session: Session
    identity: Identity
    janus_session_id: int | None
    control_handle_id: int | None
    joined_at_ms: int
    fate: EndReason | None = None
    """A reason Janus already told us about (timeout, ICE failure, kick) for what closes next."""
    videoroom_id: str | None = None
    """Its VideoRoom participant id, when it is not ``connection_id`` (a viewer that joined)."""
    identity_from_janus: bool = False
    """Nobody told us who this is: the identity holds what Janus knows (display name, address)."""
    leaving_at_ms: int | None = None
    """The server said it leaves then, and why is not known yet (``LeaveSettler``): its own
    leave closes its endpoints at that time, not a later leave of a publisher it receives."""
    left_at_ms: int | None = None
    reason: EndReason | None = None
    publisher: Endpoint | None = None
    subscribers: dict[int | str, Endpoint] = field(default_factory=dict)
    closed_publishers: list[PublisherSummary] = field(default_factory=list)
    closed_subscribers: list[SubscriberSummary] = field(default_factory=list)

    @property
    def open(self) -> bool:
        return self.left_at_ms is None


@dataclass
class Session:
    """One OpenVidu session (one VideoRoom room) between creation and destruction."""

    session_id: str
    info: SessionInfo
    created_at_ms: int
    connections: dict[str, Connection] = field(default_factory=dict)
    closed_at_ms: int | None = None
    reason: EndReason | None = None
    recordings: dict[str, RecordingStatusChanged] = field(default_factory=dict)
    stopped_recordings: dict[str, RecordingStatusChanged] = field(default_factory=dict)

    @property
    def unique_id(self) -> str:
        return unique_session_id(self.session_id, self.created_at_ms)

    @property
    def run_id(self) -> str | None:
        return self.info.runId

    @property
    def open(self) -> bool:
        return self.closed_at_ms is None

    def open_connections(self) -> list[Connection]:
        return [c for c in self.connections.values() if c.open]
