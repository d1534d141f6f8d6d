"""The session registry: sessions opened and closed, participants joining and leaving.

A participant's end reason cascades to its publisher and subscribers; a session closes when its
last participant is gone (``lastParticipantLeft``), or with the reason that closed it. A closed
session stays known for ``CLOSED_SESSION_KEEP_MS``, for late client stats and recordings.
"""

from __future__ import annotations

from collections import deque

from collector.documents import (
    ParticipantJoined,
    ParticipantLeft,
    RecordingStatusChanged,
    SessionCreated,
    SessionDestroyed,
)
from collector.model.context import ModelContext
from collector.model.endpoints import EndpointTracker
from collector.model.registrations import Registrations
from collector.model.state import Connection, Session
from collector.model.summaries import session_summary
from collector.reasons import EndReason

CLOSED_SESSION_KEEP_MS = 30 * 60 * 1000
"""How long a closed session stays known: late client stats and recording statuses (a composed
recording's file is ready after the room is gone) still find it. Then it and the simulator's
registrations for it are forgotten, so a collector that runs for days does not grow."""


class UnknownSessionError(LookupError):
    """The simulator referred to a session the collector never saw."""


class SessionRegistry:
    """Open sessions and connections, by id, and the closed sessions still kept."""

    def __init__(
        self, ctx: ModelContext, registrations: Registrations, endpoints: EndpointTracker
    ) -> None:
        self._ctx = ctx
        self._registrations = registrations
        self._endpoints = endpoints
        self.sessions: dict[str, Session] = {}
        """Open sessions by room."""
        self.last_session: dict[str, Session] = {}
        """The latest session of each room, open or closed (until forgotten)."""
        self.connections: dict[str, Connection] = {}
        """Open connections by connection id."""
        self.participants: dict[tuple[str, str], Connection] = {}
        """Open connections by room and every id the server knows them by."""
        self.closed_sessions: deque[tuple[Session, list[str]]] = deque()
        """Closed sessions and their connection ids, oldest first, for CLOSED_SESSION_KEEP_MS."""

    def open_sessions(self) -> list[str]:
        return sorted(self.sessions)

    def known_session(self, session_id: str) -> Session:
        """An open session, else the room's last closed one; ``UnknownSessionError`` if none."""
        session = self.sessions.get(session_id) or self.last_session.get(session_id)
        if session is None:
            raise UnknownSessionError(f"sessionId {session_id!r} was never created")
        return session

    def open_connection(self, connection_id: str | None) -> Connection | None:
        if connection_id is None:
            return None
        conn = self.connections.get(connection_id)
        return conn if conn is not None and conn.open else None

    def open_session(self, room: str, ts: int) -> Session:
        """A room opens: its session, and ``sessionCreated``."""
        session = Session(
            session_id=room, info=self._registrations.session_info(room), created_at_ms=ts
        )
        self.sessions[room] = session
        self.last_session[room] = session
        self._ctx.out.append(
            SessionCreated(
                timestamp=ts,
                sessionId=room,
                uniqueSessionId=session.unique_id,
                rtcsim_run_id=session.run_id,
            )
        )
        return session

    def join(
        self,
        connection_id: str,
        room: str,
        ts: int,
        *,
        display: str | None = None,
        aliases: tuple[str, ...] = (),
        user: str | None = None,
        janus_session_id: int | None = None,
        control_handle_id: int | None = None,
    ) -> Connection:
        """A participant enters the room (opened if it was not): its connection, and
        ``participantJoined``. ``aliases``: other names the simulator may have registered it
        under; ``display``, ``user``: what the server knows of it when nobody told more."""
        session = self.sessions.get(room) or self.open_session(room, ts)
        identity, from_server = self._registrations.participant_identity(
            connection_id, display, aliases=aliases, user=user
        )
        conn = Connection(
            connection_id=connection_id,
            session=session,
            identity=identity,
            janus_session_id=janus_session_id,
            control_handle_id=control_handle_id,
            joined_at_ms=ts,
            identity_from_janus=from_server,
        )
        session.connections[connection_id] = conn
        self.connections[connection_id] = conn
        self.participants[(room, connection_id)] = conn
        self._ctx.out.append(
            ParticipantJoined(
                timestamp=ts,
                sessionId=session.session_id,
                uniqueSessionId=session.unique_id,
                rtcsim_run_id=session.run_id or identity.runId,
                participantId=connection_id,
                connectionId=connection_id,
                user=identity.user,
                location=identity.location,
                ip=identity.ip,
                platform=identity.platform,
                clientData=identity.clientData,
                serverData=identity.serverData,
            )
        )
        return conn

    def leave(self, conn: Connection, reason: EndReason, ts: int, closing: bool = False) -> None:
        """The participant is gone, with ``reason``: its endpoints close with it, then
        ``participantLeft``; the session closes if it was the last one."""
        if not conn.open:
            return
        for ep in list(conn.subscribers.values()):
            if not ep.closed:
                self._endpoints.close(ep, reason, ts)
        if conn.publisher is not None and not conn.publisher.closed:
            self._endpoints.close(conn.publisher, reason, ts)
        conn.left_at_ms = ts
        conn.reason = reason
        # Its summaries are made: drop the endpoints (media samples, candidates), which a
        # session that never empties would otherwise keep for every visit until it closes.
        conn.publisher = None
        conn.subscribers.clear()
        session = conn.session
        self.participants.pop((session.session_id, conn.connection_id), None)
        if conn.videoroom_id is not None:
            self.participants.pop((session.session_id, conn.videoroom_id), None)
        if self.connections.get(conn.connection_id) is conn:
            del self.connections[conn.connection_id]  # late client stats use the identities
        ident = conn.identity
        self._ctx.out.append(
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
            # out of order (``LeaveSettler``), so "last" is the latest of their times.
            left = [c.left_at_ms for c in session.connections.values() if c.left_at_ms is not None]
            self.close_session(session, EndReason.LAST_PARTICIPANT_LEFT, max([ts, *left]))

    def close_session(self, session: Session, reason: EndReason, ts: int) -> None:
        """The session ends with ``reason``: its participants and recordings with it, then
        ``sessionDestroyed`` and the summaries."""
        if not session.open:
            return
        for conn in session.open_connections():
            self.leave(conn, reason, ts, closing=True)
        out = self._ctx.out
        for rec in list(session.recordings.values()):
            stopped = RecordingStatusChanged.model_validate(
                {**rec.model_dump(), "status": "stopped", "reason": reason.value, "timestamp": ts}
            )
            out.append(stopped)
            session.stopped_recordings[rec.id] = stopped
        session.recordings.clear()
        session.closed_at_ms = ts
        session.reason = reason
        out.append(
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
        out.extend(session_summary(session, ts).denormalized())
        self.sessions.pop(session.session_id, None)
        self.closed_sessions.append((session, list(session.connections)))
        if not session.stopped_recordings:
            # Its summaries are written for good: only a recording's late final status
            # rewrites them (``RecordingStatuses``), so without recordings the connections go.
            session.connections.clear()

    def close_all(self, reason: EndReason, ts: int) -> None:
        """Every open session ends (the media server is gone)."""
        for session in list(self.sessions.values()):
            self.close_session(session, reason, ts)

    def forget_closed(self, before_ms: int) -> None:
        """Forget sessions closed before ``before_ms``, and the registrations made for them."""
        registrations = self._registrations
        while self.closed_sessions:
            session, connection_ids = self.closed_sessions[0]
            if session.closed_at_ms is None or session.closed_at_ms >= before_ms:
                return
            self.closed_sessions.popleft()
            room = session.session_id
            if self.last_session.get(room) is session:
                del self.last_session[room]
            if registrations.session_infos.get(room) is session.info:
                del registrations.session_infos[room]  # a newer registration for the room stays
            for connection_id in connection_ids:
                registrations.identities.pop(connection_id, None)
