"""The state machine: Janus events in order, OpenVidu documents out.

Feed every parsed Janus event to ``SessionModel.handle`` in arrival order, plus what the simulator
reports (identities, streams, signals, recordings). Each call returns the documents that event
caused. No I/O and no clock reads on the Janus path: timestamps come from the events, so replaying a
capture produces the same documents (and the same ``_id``s).

Reasons come from what Janus reported (``collector.reasons``): an explicit ``unpublished`` /
``unsubscribed`` / ``leaving`` is a choice of the client; a session ``timeout`` or an ICE failure is
``networkDisconnect``; ``kicked`` is ``forceDisconnectByServer``; a room ``destroyed`` is
``sessionClosedByServer``; a core ``shutdown`` (or ``media_server_lost``) is
``mediaServerDisconnect``. As in OpenVidu, a publisher's end reason cascades to its subscribers, and
a participant's to its publisher and subscribers.
"""

from __future__ import annotations

import hashlib
import logging
import string
from collections import Counter

from collector.clock import Clock
from collector.documents import (
    Document,
    ParticipantJoined,
    ParticipantLeft,
    RecordingStatusChanged,
    SessionCreated,
    SessionDestroyed,
    SignalSent,
    WebrtcConnectionDestroyed,
    WebrtcStats,
)
from collector.documents.summaries import PublisherSummary, SubscriberSummary
from collector.endpoint_events import apply_endpoint_event, webrtc_fields
from collector.janus_events import (
    CoreEvent,
    HandleEvent,
    JanusEvent,
    JsepEvent,
    PluginEvent,
    SessionEvent,
    VideoRoomData,
)
from collector.metadata import (
    ClientStatsSample,
    Identity,
    RecordingInput,
    SessionInfo,
    SignalInput,
    StreamInfo,
)
from collector.reasons import EndReason
from collector.session_state import (
    Connection,
    Endpoint,
    Handle,
    JanusSession,
    Role,
    Session,
)
from collector.summary_builder import session_summary, stream_summary
from collector.webrtc_stats import client_stats, server_stats

log = logging.getLogger(__name__)

VIDEOROOM = "janus.plugin.videoroom"
OPAQUE_PREFIX = "rtcsim:"
MAX_PENDING_PER_HANDLE = 256


class UnknownSessionError(LookupError):
    """The simulator referred to a session the collector never saw."""


LEAVING_GRACE_MS = 1_500
"""How long a ``leaving`` waits for its Janus session's ``destroyed`` or ``timeout``."""


class SessionModel:
    """Sessions, connections and endpoints, kept from Janus events."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._out: list[Document] = []
        self._session_infos: dict[str, SessionInfo] = {}
        self._identities: dict[str, Identity] = {}
        self._streams: dict[str, StreamInfo] = {}
        self._sessions: dict[str, Session] = {}
        self._last_session: dict[str, Session] = {}
        self._connections: dict[str, Connection] = {}
        self._participants: dict[tuple[str, str], Connection] = {}
        self._janus_sessions: dict[int, JanusSession] = {}
        self._handles: dict[int, Handle] = {}
        self._bitrates: dict[int, int] = {}
        self.counters: Counter[str] = Counter()
        """Events the model could not attribute or chose to skip, by why (shown in /stats)."""
        self._leaving: dict[str, tuple[Connection, int]] = {}
        self._ending: dict[int, tuple[Endpoint, int]] = {}
        """Subscriber endpoints Janus ended (``unsubscribed``/detach), not yet told why: a
        timed-out session's handles may go before its ``leaving`` and its ``timeout``."""
        """Participants Janus reported ``leaving``, not yet told why (see ``_on_leaving``)."""

    # -- what the simulator tells us
    def register_session(self, info: SessionInfo) -> None:
        self._session_infos[info.sessionId] = info

    def register_identity(self, identity: Identity) -> None:
        self._identities[identity.connectionId] = identity
        conn = self._connections.get(identity.connectionId)
        if conn is not None and conn.open:
            conn.identity = identity

    def register_stream(self, stream: StreamInfo) -> None:
        self._streams[stream.connectionId] = stream

    def open_sessions(self) -> list[str]:
        return sorted(self._sessions)

    # -- entry points
    def handle(self, event: JanusEvent) -> list[Document]:
        """Apply one Janus event; return the documents it produced."""
        self._settle_leaves(before_ms=event.timestamp_ms - LEAVING_GRACE_MS)
        payload = event.payload
        if isinstance(payload, SessionEvent):
            self._on_session(event, payload)
        elif isinstance(payload, HandleEvent):
            self._on_handle(event, payload)
        elif isinstance(payload, PluginEvent):
            if payload.plugin == VIDEOROOM and payload.data is not None:
                self._on_videoroom(event, payload.data)
            else:
                self.counters["other_plugin"] += 1
        elif isinstance(payload, CoreEvent):
            if payload.status == "shutdown":
                self._media_server_lost(event.timestamp_ms)
        elif event.ignored:
            self.counters["ignored"] += 1
        else:
            self._on_endpoint_event(event)
        return self._drain()

    def media_server_lost(self, timestamp_ms: int | None = None) -> list[Document]:
        """Janus is gone without a shutdown event (killed -9): close everything."""
        self._media_server_lost(timestamp_ms if timestamp_ms is not None else self._clock.now_ms())
        return self._drain()

    def signal(self, signal: SignalInput) -> list[Document]:
        session = self._known_session(signal.sessionId)
        self._out.append(
            SignalSent(
                timestamp=signal.timestamp or self._clock.now_ms(),
                sessionId=session.session_id,
                uniqueSessionId=session.unique_id,
                rtcsim_run_id=session.run_id,
                from_=signal.from_,
                to=signal.to,
                type=signal.type,
                data=signal.data,
            )
        )
        return self._drain()

    def recording(self, rec: RecordingInput) -> list[Document]:
        """One status change of a recording, as the simulator reports it.

        A repeated ``started`` or ``stopped`` is dropped: when a session closes, the model stops
        its recordings itself (with the session's reason), and the simulator's own ``stopped``
        for the same recording may arrive before or after that.

        The final size and duration reach ``recordingSummary`` although files are produced
        after ``stopped``, often after the session closed and its summaries were written. A
        ``ready`` or ``failed`` status updates the recording's summary entry and, if the
        session is already closed, writes the session's summaries again; their ``_id``s are
        deterministic (``uniqueSessionId`` + recording id), so Elasticsearch overwrites the
        earlier ones. This keeps the model free of clocks and timers, never holds back any
        session's summaries, and a recording that never gets a final status simply keeps its
        ``stopped`` values, as OpenVidu's do (``openvidu-documents.md`` §5.6). Holding the
        summaries until every recording is final would need a timer and a timeout here, and
        the simulator cannot keep a room open, since sessions close on Janus's own events.
        """
        session = self._known_session(rec.sessionId)
        known = rec.id in session.recordings or rec.id in session.stopped_recordings
        if (rec.status == "started" and known) or (
            rec.status == "stopped" and rec.id in session.stopped_recordings
        ):
            self.counters["recording_status_repeated"] += 1
            return []
        reason = rec.reason
        if reason is None and rec.status != "started":
            # OpenVidu always gives an ending status a reason; a stop asked through the API is this.
            reason = EndReason.RECORDING_STOPPED_BY_SERVER.value
        doc = RecordingStatusChanged.model_validate(
            {
                **rec.model_dump(exclude={"sessionId"}),
                "reason": reason,
                "sessionId": session.session_id,
                "uniqueSessionId": session.unique_id,
                "rtcsim_run_id": session.run_id,
            }
        )
        self._out.append(doc)
        if rec.status == "started":
            session.recordings[rec.id] = doc
            return self._drain()
        stopped = session.recordings.pop(rec.id, None) or session.stopped_recordings.get(rec.id)
        if rec.status == "stopped" or stopped is None:
            session.stopped_recordings[rec.id] = doc
        else:
            session.stopped_recordings[rec.id] = stopped.model_copy(
                update={
                    "status": rec.status,
                    "size": rec.size,
                    "duration": rec.duration,
                    "rtcsim_failure": rec.rtcsim_failure,
                }
            )
        if not session.open and session.closed_at_ms is not None:
            self._out.extend(session_summary(session, session.closed_at_ms).denormalized())
        return self._drain()

    def client_stats(self, sample: ClientStatsSample) -> list[Document]:
        sample.validate_extras()
        conn = self._connections.get(sample.connectionId)
        identity = conn.identity if conn is not None else self._identity(sample.connectionId)
        session = self._sessions.get(sample.sessionId) or self._last_session.get(sample.sessionId)
        self._out.append(client_stats(sample, identity, session))
        return self._drain()

    def settle_due(self) -> list[Document]:
        """Settle ``leaving`` participants whose grace period passed with nothing more said."""
        self._settle_leaves(before_ms=self._clock.now_ms() - LEAVING_GRACE_MS)
        return self._drain()

    def _settle_leaves(self, before_ms: int, janus_session_id: int | None = None) -> None:
        for key, (ep, ts) in list(self._ending.items()):
            mine = (
                janus_session_id is not None and ep.connection.janus_session_id == janus_session_id
            )
            if ep.closed:
                del self._ending[key]
            elif ts < before_ms or mine:
                del self._ending[key]
                self._close_endpoint(ep, ep.connection.fate or EndReason.UNSUBSCRIBE, ts)
        for connection_id, (conn, ts) in list(self._leaving.items()):
            if ts < before_ms or conn.janus_session_id == janus_session_id is not None:
                del self._leaving[connection_id]
                self._leave(conn, conn.fate or EndReason.DISCONNECT, ts)

    def webrtc_stats_due(self) -> list[Document]:
        """One webrtcStats per open endpoint and media with a sample newer than the last written."""
        for session in list(self._sessions.values()):
            for conn in session.open_connections():
                for ep in self._endpoints(conn):
                    if not ep.closed:
                        self._flush_stats(ep)
        return self._drain()

    # -- Janus sessions and handles
    def _on_session(self, event: JanusEvent, payload: SessionEvent) -> None:
        sid = event.session_id
        if sid is None:
            return
        if payload.name == "created":
            self._janus_sessions.setdefault(sid, JanusSession(sid))
            return
        if payload.name not in ("destroyed", "timeout"):
            return
        janus_session = self._janus_sessions.pop(sid, None)
        if janus_session is None:
            return
        for hid in janus_session.handles:
            self._handles.pop(hid, None)
        conn = self._connection_of_janus_session(janus_session)
        if conn is None:
            return
        if payload.name == "timeout":
            conn.fate = conn.fate or EndReason.NETWORK_DISCONNECT
        if conn.connection_id in self._leaving:
            self._settle_leaves(before_ms=0, janus_session_id=sid)
            return
        self._leave(conn, conn.fate or EndReason.DISCONNECT, event.timestamp_ms)
        self._settle_leaves(before_ms=0, janus_session_id=sid)

    def _on_handle(self, event: JanusEvent, payload: HandleEvent) -> None:
        if event.handle_id is None:
            return
        if payload.name == "attached":
            handle = self._handle_of(event)
            opaque = payload.opaque_id or ""
            if handle is not None and opaque.startswith(OPAQUE_PREFIX):
                janus_session = self._janus_session(handle.janus_session_id)
                if janus_session is not None and janus_session.connection_id is None:
                    janus_session.connection_id = opaque[len(OPAQUE_PREFIX) :]
            return
        if payload.name != "detached":
            return
        handle = self._handles.pop(event.handle_id, None)
        if handle is None:
            return
        janus_session = self._janus_session(handle.janus_session_id)
        if janus_session is not None:
            janus_session.handles.pop(handle.handle_id, None)
        conn = self._connection_of(handle)
        if conn is None:
            return
        if conn.control_handle_id == handle.handle_id:
            # The control handle going away takes the participant out of the room, unless it
            # already said ``leaving`` and we are still waiting to learn why.
            if conn.connection_id not in self._leaving:
                self._leave(conn, conn.fate or EndReason.DISCONNECT, event.timestamp_ms)
        elif (
            handle.endpoint is not None
            and not handle.endpoint.closed
            and not self._settling(handle.endpoint)
        ):
            self._end_subscription(handle.endpoint, event.timestamp_ms)

    def _janus_session(self, sid: int | None) -> JanusSession | None:
        return None if sid is None else self._janus_sessions.get(sid)

    def _handle_of(self, event: JanusEvent) -> Handle | None:
        """The handle an event is about, created on first sight (we may have missed its attach)."""
        hid = event.handle_id
        if hid is None:
            return None
        handle = self._handles.get(hid)
        if handle is None:
            if event.session_id is None:
                return None
            janus_session = self._janus_sessions.setdefault(
                event.session_id, JanusSession(event.session_id)
            )
            handle = Handle(hid, event.session_id)
            self._handles[hid] = handle
            janus_session.handles[hid] = handle
        return handle

    def _connection_of_janus_session(self, janus_session: JanusSession) -> Connection | None:
        if janus_session.connection_id is None:
            return None
        conn = self._connections.get(janus_session.connection_id)
        return conn if conn is not None and conn.open else None

    def _connection_of(self, handle: Handle) -> Connection | None:
        janus_session = self._janus_session(handle.janus_session_id)
        return None if janus_session is None else self._connection_of_janus_session(janus_session)

    def _identity(self, connection_id: str) -> Identity:
        return self._identities.get(connection_id) or Identity.unknown(connection_id)

    # -- VideoRoom plugin events
    def _on_videoroom(self, event: JanusEvent, data: VideoRoomData) -> None:
        ts = event.timestamp_ms
        room = data.room
        kind = data.event
        if room is None:
            self.counters["plugin_without_room"] += 1
            return
        if kind == "created":
            if room not in self._sessions:
                self._open_session(room, ts)
        elif kind == "destroyed":
            session = self._sessions.get(room)
            if session is not None:
                self._close_session(session, EndReason.SESSION_CLOSED_BY_SERVER, ts)
        elif kind == "joined":
            self._on_joined(event, room, data)
        elif kind == "configured":
            # The room's bitrate cap is what Janus sends the publisher as REMB.
            if event.handle_id is not None and data.bitrate is not None:
                self._bitrates[event.handle_id] = data.bitrate
                handle = self._handles.get(event.handle_id)
                if handle is not None and handle.endpoint is not None:
                    handle.endpoint.remb_bps = data.bitrate
        elif kind == "published":
            conn = self._participant(room, data.id, event)
            if conn is not None:
                self._publisher_endpoint(conn, ts, data)
        elif kind == "unpublished":
            conn = self._participant(room, data.id, event)
            if conn is not None and conn.publisher is not None and not conn.publisher.closed:
                self._close_endpoint(conn.publisher, conn.fate or EndReason.UNPUBLISH, ts)
        elif kind == "subscribing":
            self._on_subscribing(event, room, data)
        elif kind == "unsubscribed":
            handle = self._handle_of(event)
            ep = handle.endpoint if handle is not None else None
            if ep is not None and not ep.closed and not self._settling(ep):
                self._end_subscription(ep, ts)
        elif kind in ("leaving", "kicked"):
            conn = self._participant(room, data.id, event)
            if conn is None:
                return
            if kind == "kicked" or conn.fate is not None or conn.janus_session_id is None:
                if kind == "kicked":
                    conn.fate = EndReason.FORCE_DISCONNECT_BY_SERVER
                self._leave(conn, conn.fate or EndReason.DISCONNECT, ts)
            else:
                self._on_leaving(conn, ts)

    def _on_leaving(self, conn: Connection, ts: int) -> None:
        """``leaving`` alone does not say why. A client that leaves cleanly then ends its Janus
        session (``destroyed``); a vanished one is removed by Janus's session ``timeout``, which
        Janus reports *after* the ``leaving`` it causes. So the reason waits for the session
        event, or for LEAVING_GRACE_MS without one (a client leaving but keeping its session).
        The participant's left time is the ``leaving`` time either way."""
        self._leaving[conn.connection_id] = (conn, ts)

    def _end_subscription(self, ep: Endpoint, ts: int) -> None:
        """A subscriber endpoint Janus ended: with its connection's known fate now, else after
        the grace period as ``unsubscribe`` unless its Janus session times out meanwhile."""
        if ep.connection.fate is not None:
            self._close_endpoint(ep, ep.connection.fate, ts)
        else:
            self._ending.setdefault(id(ep), (ep, ts))

    def _settling(self, ep: Endpoint) -> bool:
        """The endpoint ends with a ``leaving`` whose reason is not known yet (its own
        participant's, or its publisher's): it is closed when that leave settles, with that
        reason, not as an ``unsubscribe`` of its own."""
        return ep.connection.connection_id in self._leaving or (
            ep.receiving_from is not None and ep.receiving_from in self._leaving
        )

    def _participant(self, room: str, pid: str | None, event: JanusEvent) -> Connection | None:
        """A participant by room and id (``leaving`` has no session/handle), else by handle."""
        if pid is not None:
            conn = self._participants.get((room, pid))
            if conn is not None:
                return conn
        handle = self._handles.get(event.handle_id) if event.handle_id is not None else None
        conn = self._connection_of(handle) if handle is not None else None
        if conn is None:
            self.counters["unattributed_plugin_event"] += 1
        return conn

    def _on_joined(self, event: JanusEvent, room: str, data: VideoRoomData) -> None:
        handle = self._handle_of(event)
        if data.id is None or handle is None or handle.role is Role.SUBSCRIBER:
            self.counters["unattributed_join"] += 1
            return
        ts = event.timestamp_ms
        existing = self._participants.get((room, data.id))
        if existing is not None and existing.open:
            return
        session = self._sessions.get(room) or self._open_session(room, ts)
        identity = self._identity(data.id)
        conn = Connection(
            connection_id=data.id,
            session=session,
            identity=identity,
            janus_session_id=handle.janus_session_id,
            control_handle_id=handle.handle_id,
            joined_at_ms=ts,
        )
        session.connections[data.id] = conn
        self._connections[data.id] = conn
        self._participants[(room, data.id)] = conn
        janus_session = self._janus_session(handle.janus_session_id)
        if janus_session is not None:
            janus_session.connection_id = data.id
        handle.role = Role.PUBLISHER
        self._out.append(
            ParticipantJoined(
                timestamp=ts,
                sessionId=session.session_id,
                uniqueSessionId=session.unique_id,
                rtcsim_run_id=session.run_id or identity.runId,
                participantId=data.id,
                connectionId=data.id,
                user=identity.user,
                location=identity.location,
                ip=identity.ip,
                platform=identity.platform,
                clientData=identity.clientData,
                serverData=identity.serverData,
            )
        )
        self._replay_pending(handle)

    def _on_subscribing(self, event: JanusEvent, room: str, data: VideoRoomData) -> None:
        handle = self._handle_of(event)
        conn = self._connection_of(handle) if handle is not None else None
        feeds = [s.feed_id for s in data.streams or [] if s.feed_id is not None]
        if handle is None or conn is None or not feeds:
            self.counters["unattributed_subscription"] += 1
            return
        if handle.endpoint is not None and not handle.endpoint.closed:
            return  # an update of an existing subscription
        publisher_conn = self._participants.get((room, feeds[0]))
        publisher = publisher_conn.publisher if publisher_conn is not None else None
        if publisher is None or publisher.closed:
            self.counters["subscription_to_unknown_feed"] += 1
            return
        ep = Endpoint(
            role=Role.SUBSCRIBER,
            stream=publisher.stream,
            connection=conn,
            handle_id=handle.handle_id,
            created_at_ms=event.timestamp_ms,
            receiving_from=publisher.connection.connection_id,
        )
        handle.role = Role.SUBSCRIBER
        handle.endpoint = ep
        conn.subscribers[handle.handle_id] = ep
        self._replay_pending(handle)

    # -- sessions and connections
    def _open_session(self, room: str, ts: int) -> Session:
        info = self._session_infos.get(room) or SessionInfo(sessionId=room)
        session = Session(session_id=room, info=info, created_at_ms=ts)
        self._sessions[room] = session
        self._last_session[room] = session
        self._out.append(
            SessionCreated(
                timestamp=ts,
                sessionId=room,
                uniqueSessionId=session.unique_id,
                rtcsim_run_id=session.run_id,
            )
        )
        return session

    def _known_session(self, session_id: str) -> Session:
        session = self._sessions.get(session_id) or self._last_session.get(session_id)
        if session is None:
            raise UnknownSessionError(f"sessionId {session_id!r} was never created")
        return session

    def _leave(self, conn: Connection, reason: EndReason, ts: int, closing: bool = False) -> None:
        if not conn.open:
            return
        for ep in list(conn.subscribers.values()):
            if not ep.closed:
                self._close_endpoint(ep, reason, ts)
        if conn.publisher is not None and not conn.publisher.closed:
            self._close_endpoint(conn.publisher, reason, ts)
        conn.left_at_ms = ts
        conn.reason = reason
        session = conn.session
        self._participants.pop((session.session_id, conn.connection_id), None)
        ident = conn.identity
        self._out.append(
            ParticipantLeft(
                timestamp=ts,
                sessionId=session.session_id,
                uniqueSessionId=session.unique_id,
                rtcsim_run_id=session.run_id,
                participantId=conn.connection_id,
                connectionId=conn.connection_id,
                user=ident.user,
                location=ident.location,
                ip=ident.ip,
                platform=ident.platform,
                clientData=ident.clientData,
                serverData=ident.serverData,
                startTime=conn.joined_at_ms,
                duration=(ts - conn.joined_at_ms) // 1000,
                reason=reason.value,
            )
        )
        if not closing and session.open and not session.open_connections():
            # OpenVidu closes a session as soon as its last participant is gone. Leaves settle
            # out of order (see _on_leaving), so "last" is the latest of their times.
            left = [c.left_at_ms for c in session.connections.values() if c.left_at_ms is not None]
            self._close_session(session, EndReason.LAST_PARTICIPANT_LEFT, max([ts, *left]))

    def _close_session(self, session: Session, reason: EndReason, ts: int) -> None:
        if not session.open:
            return
        for conn in session.open_connections():
            self._leave(conn, reason, ts, closing=True)
        for rec in list(session.recordings.values()):
            stopped = RecordingStatusChanged.model_validate(
                {**rec.model_dump(), "status": "stopped", "reason": reason.value, "timestamp": ts}
            )
            self._out.append(stopped)
            session.stopped_recordings[rec.id] = stopped
        session.recordings.clear()
        session.closed_at_ms = ts
        session.reason = reason
        self._out.append(
            SessionDestroyed(
                timestamp=ts,
                sessionId=session.session_id,
                uniqueSessionId=session.unique_id,
                rtcsim_run_id=session.run_id,
                startTime=session.created_at_ms,
                duration=(ts - session.created_at_ms) // 1000,
                reason=reason.value,
            )
        )
        self._out.extend(session_summary(session, ts).denormalized())
        self._sessions.pop(session.session_id, None)

    def _media_server_lost(self, ts: int) -> None:
        for session in list(self._sessions.values()):
            self._close_session(session, EndReason.MEDIA_SERVER_DISCONNECT, ts)
        self._janus_sessions.clear()
        self._handles.clear()

    # -- endpoints
    @staticmethod
    def _endpoints(conn: Connection) -> list[Endpoint]:
        eps = list(conn.subscribers.values())
        if conn.publisher is not None:
            eps.append(conn.publisher)
        return eps

    def _default_stream(self, conn: Connection, ts: int) -> StreamInfo:
        """A stream id in OpenVidu's 2.11 format when the simulator did not announce one."""
        digest = hashlib.sha1(f"{conn.connection_id}/{ts}".encode()).digest()
        letters = "".join(string.ascii_uppercase[b % 26] for b in digest[:5])
        return StreamInfo(
            streamId=f"{conn.connection_id}_CAMERA_{letters}", connectionId=conn.connection_id
        )

    def _publisher_endpoint(
        self, conn: Connection, ts: int, data: VideoRoomData | None = None
    ) -> Endpoint:
        """The connection's open publisher endpoint, created if it publishes anew."""
        ep = conn.publisher
        if ep is not None and not ep.closed:
            return ep
        stream = self._streams.pop(conn.connection_id, None)
        if stream is None:
            stream = self._default_stream(conn, ts)
            if data is not None and data.streams:
                kinds = {s.type for s in data.streams}
                stream = stream.model_copy(
                    update={"audioEnabled": "audio" in kinds, "videoEnabled": "video" in kinds}
                )
        handle_id = conn.control_handle_id or 0
        ep = Endpoint(
            role=Role.PUBLISHER,
            stream=stream,
            connection=conn,
            handle_id=handle_id,
            created_at_ms=ts,
            remb_bps=self._bitrates.get(handle_id),
        )
        conn.publisher = ep
        handle = self._handles.get(handle_id)
        if handle is not None:
            handle.endpoint = ep
        return ep

    def _close_endpoint(self, ep: Endpoint, reason: EndReason, ts: int) -> None:
        if ep.closed:
            return
        ep.closed = True
        self._flush_stats(ep)
        conn = ep.connection
        if ep.role is Role.PUBLISHER:
            # OpenVidu closes every subscriber of a stream with the publisher's reason.
            for other in conn.session.connections.values():
                for sub in other.subscribers.values():
                    if not sub.closed and sub.stream is ep.stream:
                        self._close_endpoint(sub, reason, ts)
        if ep.started_at_ms is None:
            self.counters["endpoint_closed_before_webrtcup"] += 1
            return
        summary = stream_summary(ep, ts, reason.value)
        if isinstance(summary, PublisherSummary):
            conn.closed_publishers.append(summary)
        elif isinstance(summary, SubscriberSummary):
            conn.closed_subscribers.append(summary)
        self._out.append(
            WebrtcConnectionDestroyed.model_validate(
                {
                    **webrtc_fields(ep, ts),
                    "startTime": ep.started_at_ms,
                    "duration": (ts - ep.started_at_ms) // 1000,
                    "reason": reason.value,
                }
            )
        )

    def _flush_stats(self, ep: Endpoint) -> None:
        for media, sample in ep.media.items():
            if sample.written_ms == sample.latest_ms:
                continue
            doc: WebrtcStats = server_stats(ep, media, sample)
            self._out.append(doc)
            sample.written = sample.latest
            sample.written_ms = sample.latest_ms

    # -- webrtc / media / jsep events of one handle
    def _on_endpoint_event(self, event: JanusEvent) -> None:
        handle = self._handle_of(event)
        if handle is None:
            self.counters["unattributed_endpoint_event"] += 1
            return
        ep = handle.endpoint
        conn = self._connection_of(handle)
        if handle.role is Role.PUBLISHER and conn is not None:
            new_offer = (
                isinstance(event.payload, JsepEvent)
                and event.payload.owner == "remote"
                and event.payload.jsep.type == "offer"
            )
            if ep is None or (ep.closed and new_offer):
                # Janus only negotiates media on the control handle to publish.
                ep = self._publisher_endpoint(conn, event.timestamp_ms)
        if ep is None:
            if len(handle.pending) < MAX_PENDING_PER_HANDLE:
                handle.pending.append(event)
            else:
                self.counters["pending_overflow"] += 1
            return
        if not ep.closed:
            self._apply(ep, event)

    def _replay_pending(self, handle: Handle) -> None:
        pending, handle.pending = handle.pending, []
        for event in pending:
            self._on_endpoint_event(event)

    def _apply(self, ep: Endpoint, event: JanusEvent) -> None:
        if apply_endpoint_event(ep, event, self._out):
            self._network_failure(ep, event.timestamp_ms)

    def _network_failure(self, ep: Endpoint, ts: int) -> None:
        """ICE failed or the PeerConnection broke: the client is unreachable."""
        conn = ep.connection
        conn.fate = conn.fate or EndReason.NETWORK_DISCONNECT
        self._close_endpoint(ep, conn.fate, ts)

    def _drain(self) -> list[Document]:
        out, self._out = self._out, []
        return out
