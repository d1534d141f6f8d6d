"""``elastic_type: "cdr"``: OpenVidu's Call Detail Record events, one document per event.

Field lists per event: ``openvidu-documents.md`` §1 (OpenVidu ``cdr/CDREvent*.java``). End
events add ``startTime``, ``duration`` (whole seconds, truncated) and ``reason``. Deprecated
duplicates that OpenVidu still emits (``participantId`` beside ``connectionId``) are kept, because
old dashboards query them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import Field

from collector.documents.base import Document


class CdrEventName(StrEnum):
    SESSION_CREATED = "sessionCreated"
    SESSION_DESTROYED = "sessionDestroyed"
    PARTICIPANT_JOINED = "participantJoined"
    PARTICIPANT_LEFT = "participantLeft"
    WEBRTC_CONNECTION_CREATED = "webrtcConnectionCreated"
    WEBRTC_CONNECTION_DESTROYED = "webrtcConnectionDestroyed"
    RECORDING_STATUS_CHANGED = "recordingStatusChanged"
    SIGNAL_SENT = "signalSent"


class CdrEvent(Document):
    """Fields of every session-scoped CDR event."""

    elastic_type: Literal["cdr"] = "cdr"
    event: CdrEventName
    timestamp: int
    sessionId: str
    uniqueSessionId: str
    rtcsim_run_id: str | None = None

    def identity(self) -> tuple[object, ...]:
        return (self.event.value, self.uniqueSessionId, self.timestamp, *self.subject())

    def subject(self) -> tuple[object, ...]:
        """What the event is about, beyond session and time."""
        return ()


class EndFields(Document):
    """CDREventEnd: the matching start time, whole seconds elapsed and why it ended."""

    startTime: int
    duration: int
    reason: str


class SessionCreated(CdrEvent):
    event: Literal[CdrEventName.SESSION_CREATED] = CdrEventName.SESSION_CREATED


class SessionDestroyed(CdrEvent, EndFields):
    event: Literal[CdrEventName.SESSION_DESTROYED] = CdrEventName.SESSION_DESTROYED


class ParticipantFields(CdrEvent):
    """CDREventParticipant (2.20+ set of fields) plus ``user``, the final-user id."""

    participantId: str
    connectionId: str
    user: str
    location: str
    ip: str
    platform: str
    clientData: str
    serverData: str

    def subject(self) -> tuple[object, ...]:
        return (self.connectionId,)


class ParticipantJoined(ParticipantFields):
    event: Literal[CdrEventName.PARTICIPANT_JOINED] = CdrEventName.PARTICIPANT_JOINED


class ParticipantLeft(ParticipantFields, EndFields):
    event: Literal[CdrEventName.PARTICIPANT_LEFT] = CdrEventName.PARTICIPANT_LEFT


class MediaOptions(Document):
    """The publisher's media options; a subscriber copies its publisher's (OpenVidu does)."""

    videoSource: str | None = None
    videoFramerate: int | None = None
    videoDimensions: str | None = Field(default=None, description='JSON string {"width","height"}')
    audioEnabled: bool
    videoEnabled: bool


class WebrtcConnectionFields(CdrEvent, MediaOptions):
    """CDREventWebrtcConnection: ``connection`` is OUTBOUND (publisher) or INBOUND (subscriber)."""

    streamId: str
    participantId: str
    connectionId: str
    user: str
    connection: Literal["OUTBOUND", "INBOUND"]
    receivingFrom: str | None = None
    rtcsim_side: Literal["client"] | None = None
    """``client``: the client reported this connection, the server has no event of it (a
    LiveKit subscription); absent when the server's own events made it."""

    def subject(self) -> tuple[object, ...]:
        return (self.connectionId, self.streamId, self.connection)


class WebrtcConnectionCreated(WebrtcConnectionFields):
    event: Literal[CdrEventName.WEBRTC_CONNECTION_CREATED] = CdrEventName.WEBRTC_CONNECTION_CREATED


class WebrtcConnectionDestroyed(WebrtcConnectionFields, EndFields):
    event: Literal[CdrEventName.WEBRTC_CONNECTION_DESTROYED] = (
        CdrEventName.WEBRTC_CONNECTION_DESTROYED
    )


class RecordingFields(Document):
    """A recording's properties (OpenVidu ``Recording`` / CDREventRecordingStatusChanged)."""

    id: str
    name: str
    outputMode: str
    hasAudio: bool
    hasVideo: bool
    resolution: str | None = None
    frameRate: int | None = None
    recordingLayout: str | None = None
    customLayout: str | None = None
    size: int = 0
    startTime: int
    duration: float = Field(description="seconds, with a fraction (file duration)")
    reason: str | None = None
    rtcsim_failure: str | None = None
    """rtcsim's own: why a ``failed`` recording failed (absent otherwise)."""


class RecordingStatusChanged(CdrEvent, RecordingFields):
    event: Literal[CdrEventName.RECORDING_STATUS_CHANGED] = CdrEventName.RECORDING_STATUS_CHANGED
    status: Literal["started", "stopped", "ready", "failed"]

    def subject(self) -> tuple[object, ...]:
        return (self.id, self.status)


class SignalSent(CdrEvent):
    """CDREventSignal: ``from`` is JSON null when the server application sent it."""

    event: Literal[CdrEventName.SIGNAL_SENT] = CdrEventName.SIGNAL_SENT
    from_: str | None = Field(default=None, alias="from")
    to: list[str]
    type: str
    data: str

    keep_null: ClassVar[frozenset[str]] = frozenset({"from"})

    def subject(self) -> tuple[object, ...]:
        return (self.from_, self.to, self.type, self.data)
