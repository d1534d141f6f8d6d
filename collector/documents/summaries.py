"""Summary documents, written once when a session closes (``openvidu-documents.md`` §5).

``sessionSummary`` nests ``users`` ▸ ``connections`` ▸ ``publishers``/``subscribers`` and
``recordings``; OpenVidu Pro also writes each nested object as its own document (a
denormalisation), and the nested copies keep their own ``elastic_type``. Both the older keys of the
seed (``session``, ``connection``) and the later ones (``sessionId``, ``connectionId``,
``uniqueSessionId``) are written.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from collector.documents.base import Container, Document
from collector.documents.cdr import MediaOptions, RecordingFields


class StreamSummaryFields(MediaOptions):
    """A closed publisher or subscriber: its webrtcConnectionDestroyed CDR minus the direction."""

    sessionId: str
    uniqueSessionId: str
    timestamp: int
    startTime: int
    duration: int
    reason: str
    streamId: str
    session: str
    user: str
    connection: str
    connectionId: str
    rtcsim_run_id: str | None = None
    rtcsim_side: Literal["client"] | None = None
    """``client``: the client reported this stream's lifecycle (``WebrtcConnectionFields``)."""


class PublisherSummary(StreamSummaryFields):
    elastic_type: Literal["publisherSummary"] = "publisherSummary"
    simulcastLayers: int | None = None
    """How many simulcast layers of its video Janus received (rtcsim's; absent without)."""

    def identity(self) -> tuple[object, ...]:
        return (self.uniqueSessionId, self.streamId, self.startTime)


class SubstreamPeriod(BaseModel):
    """A simulcast layer a subscriber was relayed, from when (ms) until the next or its end."""

    model_config = ConfigDict(frozen=True)

    substream: int
    since: int


class SubscriberSummary(StreamSummaryFields):
    elastic_type: Literal["subscriberSummary"] = "subscriberSummary"
    receivingFrom: str
    rtcsim_substream: int | None = None
    """The simulcast layer it was relayed last (rtcsim's; absent for a single-layer feed)."""
    rtcsim_substreams: list[SubstreamPeriod] | None = None
    """Every layer it was relayed, in order, each with its switch time."""

    def identity(self) -> tuple[object, ...]:
        return (self.uniqueSessionId, self.connectionId, self.streamId, self.startTime)


class ConnectionSummary(Document):
    """A connection (participant) once it left; ``reason`` is ``"NULL"`` if none was stored."""

    elastic_type: Literal["connectionSummary"] = "connectionSummary"
    createdAt: int
    destroyedAt: int
    connectionId: str
    clientData: str
    serverData: str
    duration: int
    reason: str
    publishers: Container[PublisherSummary]
    subscribers: Container[SubscriberSummary]
    geoPoints: str | None = None
    location: str
    platform: str
    ip: str
    session: str
    sessionId: str
    uniqueSessionId: str
    user: str
    timestamp: int
    rtcsim_run_id: str | None = None

    def identity(self) -> tuple[object, ...]:
        return (self.uniqueSessionId, self.connectionId)


class UserSummary(Document):
    """A final user (the synthetic browser) with every connection it made to the session."""

    elastic_type: Literal["userSummary"] = "userSummary"
    id: str
    location: str
    ip: str
    platform: str
    connections: Container[ConnectionSummary]
    session: str
    sessionId: str
    uniqueSessionId: str
    timestamp: int
    rtcsim_run_id: str | None = None

    def identity(self) -> tuple[object, ...]:
        return (self.uniqueSessionId, self.id)


class RecordingSummary(RecordingFields):
    """A recording as of its ``stopped`` status (size and duration may still be 0 then)."""

    elastic_type: Literal["recordingSummary"] = "recordingSummary"
    sessionId: str
    uniqueSessionId: str
    timestamp: int
    status: str
    rtcsim_run_id: str | None = None

    def identity(self) -> tuple[object, ...]:
        return (self.uniqueSessionId, self.id)


class SessionSummary(Document):
    """The whole closed session; ``reason`` is ``""`` if none was stored."""

    elastic_type: Literal["sessionSummary"] = "sessionSummary"
    createdAt: int
    destroyedAt: int
    sessionId: str
    uniqueSessionId: str
    customSessionId: str
    mediaMode: str
    recordingMode: str
    duration: int
    reason: str
    users: Container[UserSummary]
    recordings: Container[RecordingSummary]
    timestamp: int
    rtcsim_run_id: str | None = None

    def identity(self) -> tuple[object, ...]:
        return (self.uniqueSessionId,)

    def denormalized(self) -> list[Document]:
        """This summary followed by every nested summary as its own document (OpenVidu Pro)."""
        out: list[Document] = [self]
        out.extend(self.recordings.content)
        for user in self.users.content:
            out.append(user)
            for conn in user.connections.content:
                out.append(conn)
                out.extend(conn.publishers.content)
                out.extend(conn.subscribers.content)
        return out
