"""The session model: the media server's events in (through an event source), what the
simulator reports in, OpenVidu documents out.

The model knows no media server. An event source (``collector.sources``: Janus's event handler,
LiveKit's webhooks) turns a server's events into calls on the model's collaborators:

- ``registrations``: what the simulator told (sessions, identities, streams)
- ``endpoints`` (``EndpointTracker``): publisher and subscriber endpoints opened, started, fed
  stats and closed with a reason, a publisher's cascading to its subscribers
- ``registry`` (``SessionRegistry``): sessions opened and closed, participants joining and
  leaving, a participant's reason cascading to its endpoints
- ``leaves`` (``LeaveSettler``): leaves and ended subscriptions waiting to learn why
- ``recordings`` (``RecordingStatuses``): recording statuses from the simulator
- ``client`` (``ClientSide``): what only the client can say on a server that does not
  (subscriptions, endpoint events), marked ``rtcsim_side: client``

Each call on this class returns the documents it caused (every collaborator writes to one
outbox, drained here and by the sources). No I/O and no clock reads on a server's path:
timestamps come from the events, so replaying a capture produces the same documents (and the
same ``_id``s).

Reasons come from what the server reported (``collector.reasons``); as in OpenVidu, a
publisher's end reason cascades to its subscribers, and a participant's to its publisher and
subscribers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from collector.clock import Clock
from collector.documents import Document, SignalSent
from collector.metadata import (
    ClientEndpointEvent,
    ClientStatsSample,
    Identity,
    RecordingInput,
    SessionInfo,
    SignalInput,
    StreamInfo,
    SubscriptionInput,
)
from collector.model.client_side import ClientSide
from collector.model.context import ModelContext
from collector.model.endpoints import EndpointTracker
from collector.model.leaves import LEAVING_GRACE_MS, LeaveSettler
from collector.model.recordings import RecordingStatuses
from collector.model.registrations import Registrations
from collector.model.registry import CLOSED_SESSION_KEEP_MS, SessionRegistry, UnknownSessionError
from collector.model.webrtc_stats import client_stats, note_substream
from collector.reasons import EndReason

__all__ = [
    "CLOSED_SESSION_KEEP_MS",
    "LEAVING_GRACE_MS",
    "SessionModel",
    "UnknownSessionError",
]


class SessionModel:
    """Sessions, connections and endpoints, and the simulator's inputs."""

    def __init__(self, clock: Clock) -> None:
        self.ctx = ModelContext(clock)
        self.registrations = Registrations()
        self.endpoints = EndpointTracker(self.ctx, self.registrations)
        self.registry = SessionRegistry(self.ctx, self.registrations, self.endpoints)
        self.leaves = LeaveSettler(self.registry, self.endpoints)
        self.recordings = RecordingStatuses(self.ctx, self.registry)
        self.client = ClientSide(
            self.ctx, self.registrations, self.registry, self.endpoints, self.leaves
        )
        self._server_lost: list[Callable[[], None]] = []
        self._due: list[Callable[[int], None]] = []

    @property
    def counters(self) -> Counter[str]:
        """Events the model could not attribute or chose to skip, by why (shown in /stats)."""
        return self.ctx.counters

    def drain(self) -> list[Document]:
        """The documents produced since the last drain, in order."""
        return self.ctx.out.drain()

    def on_media_server_lost(self, forget: Callable[[], None]) -> None:
        """Have ``forget`` called when the media server is lost (a source's ids die with it)."""
        self._server_lost.append(forget)

    def on_settle(self, settle: Callable[[int], None]) -> None:
        """Have ``settle(now_ms)`` called with the model's due work (``settle_due``): a source's
        own waiting ends whose time passed with nothing more said."""
        self._due.append(settle)

    # -- what the simulator tells us
    def register_session(self, info: SessionInfo) -> None:
        self.registrations.session_infos[info.sessionId] = info

    def register_identity(self, identity: Identity) -> None:
        self.registrations.identities[identity.connectionId] = identity
        conn = self.registry.open_connection(identity.connectionId)
        if conn is not None:
            conn.identity = identity

    def register_stream(self, stream: StreamInfo) -> None:
        self.registrations.streams[stream.connectionId] = stream

    def open_sessions(self) -> list[str]:
        return self.registry.open_sessions()

    def signal(self, signal: SignalInput) -> list[Document]:
        session = self.registry.known_session(signal.sessionId)
        self.ctx.out.append(
            SignalSent(
                timestamp=signal.timestamp or self.ctx.clock.now_ms(),
                sessionId=session.session_id,
                uniqueSessionId=session.unique_id,
                rtcsim_run_id=session.run_id,
                from_=signal.from_,
                to=signal.to,
                type=signal.type,
                data=signal.data,
            )
        )
        return self.drain()

    def recording(self, rec: RecordingInput) -> list[Document]:
        """One status change of a recording (``RecordingStatuses.change``)."""
        self.recordings.change(rec)
        return self.drain()

    def client_stats(self, sample: ClientStatsSample) -> list[Document]:
        sample.validate_extras()
        registry = self.registry
        conn = registry.connections.get(sample.connectionId)
        identity = (
            conn.identity if conn is not None else self.registrations.identity(sample.connectionId)
        )
        session = registry.sessions.get(sample.sessionId) or registry.last_session.get(
            sample.sessionId
        )
        if conn is not None and sample.mediaType == "video":
            extras = sample.model_extra or {}
            for ep in conn.subscribers.values():
                if ep.name == sample.endpoint and not ep.closed:
                    note_substream(
                        ep, extras.get("rtcsim_substream"), extras.get("rtcsim_substream_since")
                    )
        self.ctx.out.append(client_stats(sample, identity, session))
        return self.drain()

    def subscription(self, sub: SubscriptionInput) -> list[Document]:
        """A subscription the client began or ended (``ClientSide.subscription``)."""
        self.client.subscription(sub)
        return self.drain()

    def client_endpoint_event(self, event: ClientEndpointEvent) -> list[Document]:
        """An endpoint event the client observed (``ClientSide.endpoint_event``)."""
        self.client.endpoint_event(event)
        return self.drain()

    # -- the server
    def media_server_lost(self, timestamp_ms: int | None = None) -> list[Document]:
        """The media server is gone (a shutdown event, or killed -9): close everything."""
        ts = timestamp_ms if timestamp_ms is not None else self.ctx.clock.now_ms()
        self.registry.close_all(EndReason.MEDIA_SERVER_DISCONNECT, ts)
        for forget in self._server_lost:
            forget()
        return self.drain()

    # -- due work
    def settle_due(self) -> list[Document]:
        """Settle leaves whose grace period passed with nothing more said, and forget
        sessions closed longer than ``CLOSED_SESSION_KEEP_MS`` ago."""
        now_ms = self.ctx.clock.now_ms()
        for settle in self._due:
            settle(now_ms)  # first: an endpoint a source settles may cascade to waiting ones
        self.leaves.settle(before_ms=now_ms - LEAVING_GRACE_MS)
        self.registry.forget_closed(before_ms=now_ms - CLOSED_SESSION_KEEP_MS)
        self.client.forget_closed()
        return self.drain()

    def webrtc_stats_due(self) -> list[Document]:
        """One webrtcStats per open endpoint and media with a sample newer than the last written."""
        endpoints = self.endpoints
        for session in list(self.registry.sessions.values()):
            for conn in session.open_connections():
                for ep in endpoints.endpoints(conn):
                    if not ep.closed:
                        endpoints.flush_stats(ep)
        return self.drain()
