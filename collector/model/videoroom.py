"""The VideoRoom plugin's events: rooms (sessions) created and destroyed, participants joining,
publishing, subscribing and leaving."""

from __future__ import annotations

from collector.documents import ParticipantJoined
from collector.janus_events import JanusEvent, VideoRoomData
from collector.model.lifecycle import SessionLifecycle
from collector.reasons import EndReason
from collector.session_state import Connection, Endpoint, Role

VIDEOROOM = "janus.plugin.videoroom"


class VideoRoomEvents(SessionLifecycle):
    """What the VideoRoom plugin reports, applied to sessions and connections."""

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
