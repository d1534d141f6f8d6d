"""Sessions opened and closed, participants leaving, and leaves settled once Janus says why.

A participant's end reason cascades to its publisher and subscribers; a session closes when its
last participant is gone, or with the reason that closed it (``collector.session_model``).
"""

from __future__ import annotations

from collector.documents import (
    ParticipantLeft,
    RecordingStatusChanged,
    SessionCreated,
    SessionDestroyed,
)
from collector.metadata import SessionInfo
from collector.model.endpoints import EndpointLifecycle
from collector.reasons import EndReason
from collector.session_state import Connection, Endpoint, Session
from collector.summary_builder import session_summary

LEAVING_GRACE_MS = 1_500
"""How long a ``leaving`` waits for its Janus session's ``destroyed`` or ``timeout``."""


class SessionLifecycle(EndpointLifecycle):
    """Sessions and connections opened and closed."""

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
        # Its summaries are made: drop the endpoints (media samples, candidates), which a
        # session that never empties would otherwise keep for every visit until it closes.
        conn.publisher = None
        conn.subscribers.clear()
        session = conn.session
        self._participants.pop((session.session_id, conn.connection_id), None)
        if conn.videoroom_id is not None:
            self._participants.pop((session.session_id, conn.videoroom_id), None)
        if self._connections.get(conn.connection_id) is conn:
            del self._connections[conn.connection_id]  # late client stats use _identities
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
        self._closed_sessions.append((session, list(session.connections)))
        if not session.stopped_recordings:
            # Its summaries are written for good: only a recording's late final status
            # rewrites them (see ``recording``), so without recordings the connections go now.
            session.connections.clear()

    def _media_server_lost(self, ts: int) -> None:
        for session in list(self._sessions.values()):
            self._close_session(session, EndReason.MEDIA_SERVER_DISCONNECT, ts)
        self._janus_sessions.clear()
        self._handles.clear()
        self._bitrates.clear()

    # -- leaves waiting to learn why
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

    def _settle_leaves(
        self,
        before_ms: int,
        janus_session_id: int | None = None,
        session: Session | None = None,
    ) -> None:
        """Settle the leaves and endings older than ``before_ms``, and those of one Janus
        session or of one room whatever their age."""
        if not self._ending and not self._leaving:
            return  # the usual case: it runs before every event
        for key, (ep, ts) in list(self._ending.items()):
            mine = (
                janus_session_id is not None and ep.connection.janus_session_id == janus_session_id
            ) or ep.connection.session is session
            if ep.closed:
                del self._ending[key]
            elif ts < before_ms or mine:
                del self._ending[key]
                self._close_endpoint(ep, ep.connection.fate or EndReason.UNSUBSCRIBE, ts)
        for connection_id, (conn, ts) in list(self._leaving.items()):
            if (
                ts < before_ms
                or conn.janus_session_id == janus_session_id is not None
                or conn.session is session
            ):
                del self._leaving[connection_id]
                self._leave(conn, conn.fate or EndReason.DISCONNECT, ts)

    def _forget_closed(self, before_ms: int) -> None:
        while self._closed_sessions:
            session, connection_ids = self._closed_sessions[0]
            if session.closed_at_ms is None or session.closed_at_ms >= before_ms:
                return
            self._closed_sessions.popleft()
            room = session.session_id
            if self._last_session.get(room) is session:
                del self._last_session[room]
            if self._session_infos.get(room) is session.info:
                del self._session_infos[room]  # a newer registration for the room stays
            for connection_id in connection_ids:
                self._identities.pop(connection_id, None)
