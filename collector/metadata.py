"""What the simulator tells the collector that the media server cannot: identities, stream
options, signals, recordings, client-side stats, and, for a server that reports no subscribers or
ICE (LiveKit), the client's subscriptions and endpoint events. Servers know rooms and
connections; OpenVidu documents also need a user id, a location and a platform string, which a
real OpenVidu learns from the browser.

These shapes are the collector's HTTP API (see ``collector.app``); camelCase keys are OpenVidu's.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from collector.documents import KmsEventType
from collector.documents.kms import KmsPayload
from collector.reasons import EndReason


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class SessionInfo(_Input):
    """``POST /sessions``: sent before the room is created."""

    sessionId: str = Field(min_length=1)
    runId: str | None = None
    customSessionId: str = ""
    mediaMode: Literal["ROUTED", "RELAYED"] = "ROUTED"
    recordingMode: Literal["MANUAL", "ALWAYS"] = "MANUAL"


class Identity(_Input):
    """``POST /identities``: who is behind a connection (one synthetic browser)."""

    connectionId: str = Field(min_length=1)
    sessionId: str | None = None
    runId: str | None = None
    user: str
    location: str = "unknown"
    geoPoints: str | None = Field(default=None, pattern=r"^-?\d+(\.\d+)?,\s*-?\d+(\.\d+)?$")
    platform: str = "unknown"
    clientData: str = ""
    serverData: str = ""
    ip: str = "unknown"

    @classmethod
    def unknown(cls, connection_id: str) -> Identity:
        """Defaults for a connection the simulator never described: never a crash."""
        user = hashlib.sha1(connection_id.encode()).hexdigest()[:16].upper()
        return cls(connectionId=connection_id, user=user)


class StreamInfo(_Input):
    """``POST /streams``: the publisher's stream id and media options, before it publishes."""

    streamId: str = Field(min_length=1)
    connectionId: str = Field(min_length=1)
    sessionId: str | None = None
    videoSource: str | None = "CAMERA"
    videoFramerate: int | None = -1
    videoDimensions: str | None = None
    audioEnabled: bool = True
    videoEnabled: bool = True


class SignalInput(_Input):
    """``POST /signals``: VideoRoom has no signal concept, so the simulator reports its own."""

    sessionId: str = Field(min_length=1)
    from_: str | None = Field(default=None, alias="from")
    to: list[str] = Field(default_factory=list)
    type: str = ""
    data: str = ""
    timestamp: int | None = None


class RecordingInput(_Input):
    """``POST /recordings``: one status change of a recording."""

    id: str = Field(min_length=1)
    sessionId: str = Field(min_length=1)
    name: str = ""
    outputMode: Literal["COMPOSED", "INDIVIDUAL", "COMPOSED_QUICK_START"] = "COMPOSED"
    hasAudio: bool = True
    hasVideo: bool = True
    resolution: str | None = None
    frameRate: int | None = None
    recordingLayout: str | None = None
    customLayout: str | None = None
    status: Literal["started", "stopped", "ready", "failed"]
    reason: str | None = None
    size: int = 0
    duration: float = 0.0
    startTime: int
    timestamp: int
    rtcsim_failure: str | None = None
    """Why a ``failed`` recording failed (OpenVidu has no field for it; prefixed as ours)."""


class ClientStatsSample(BaseModel):
    """``POST /client-stats``: one aiortc getStats-derived sample; extra numeric fields are kept."""

    model_config = ConfigDict(extra="allow", frozen=True)

    connectionId: str = Field(min_length=1)
    sessionId: str = Field(min_length=1)
    endpoint: str = Field(min_length=1)
    mediaType: Literal["audio", "video"]
    timestamp: int

    def numbers(self) -> dict[str, int | float]:
        """The extra fields, which must all be numbers (checked by ``validate_extras``)."""
        return dict(self.model_extra or {})

    def validate_extras(self) -> None:
        for key, value in (self.model_extra or {}).items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{key}: client stats fields must be numbers")


class SubscriptionInput(_Input):
    """``POST /subscriptions``: a subscription the client began or ended, for a media server
    that reports no subscriber lifecycle of its own (LiveKit: one subscriber peer connection
    per participant, renegotiated for every track, and no webhook for it). Its documents are
    marked ``rtcsim_side: client``. On Janus the server's own events make subscribers: don't
    post these there."""

    sessionId: str = Field(min_length=1)
    connectionId: str = Field(min_length=1)
    """The subscriber's connection (on LiveKit: its participant SID)."""
    receivingFrom: str = Field(min_length=1)
    """The publisher's connection (its participant SID)."""
    status: Literal["started", "ended"]
    """``started``: media of the stream reached the client; ``ended``: it stopped taking it."""
    timestamp: int
    reason: EndReason | None = None
    """Why it ended (``ended`` only): the client's own ``unsubscribe`` when absent, or what it
    saw (``networkDisconnect``: its subscriber connection failed). An end the server caused
    (the publisher unpublished, a participant left) comes from the server's events first."""


class ClientEndpointEvent(_Input, KmsPayload):
    """``POST /client-events``: one endpoint event the client's own WebRTC stack observed, for a
    media server that reports none (LiveKit has no ICE or media-flow events server side): a
    ``kms`` document marked ``rtcsim_side: client``. ``endpoint`` is Kurento's name, the
    ``streamId`` for a publisher and ``<subscriber connectionId>_<streamId>`` for a
    subscriber; ``msSinceEndpointCreation`` counts from the client's peer connection; the
    rest is the event's payload, as in the document (``KmsPayload``)."""

    sessionId: str = Field(min_length=1)
    connectionId: str = Field(min_length=1)
    endpoint: str = Field(min_length=1)
    type: KmsEventType
    timestamp: int
    msSinceEndpointCreation: int = Field(ge=0)
