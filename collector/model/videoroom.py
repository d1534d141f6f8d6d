"""The VideoRoom plugin's events: rooms (sessions) created and destroyed, participants joining,
publishing, subscribing and leaving."""

from __future__ import annotations

from collector.documents import ParticipantJoined
from collector.janus_events import JanusEvent, VideoRoomData
from collector.model.lifecycle import SessionLifecycle
from collector.reasons import EndReason
from collector.session_state import Connection, Endpoint, Handle, Role

VIDEOROOM = "janus.plugin.videoroom"
VIEWER_PREFIX = "con_"
"""Connection ids the collector gives viewers Janus knows no participant id for."""


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
                # Who left before the room went keeps the reason of that leave (Janus sends
                # no ``leaving`` for a destroyed room's participants, so any is their own).
                self._settle_leaves(before_ms=0, session=session)
            if session is not None and session.open:
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
                self._published(self._publisher_endpoint(conn, ts), data)
        elif kind == "unpublished":
            conn = self._participant(room, data.id, event)
            if conn is not None and conn.publisher is not None and not conn.publisher.closed:
                self._close_endpoint(conn.publisher, self._unpublish_reason(conn.publisher), ts)
        elif kind == "subscribing":
            self._on_subscribing(event, room, data)
        elif kind == "unsubscribed":
            handle = self._handle_of(event)
            ep = handle.endpoint if handle is not None else None
            if ep is not None and not ep.closed and ep.ice_failed:
                self._network_failure(ep, ts)
            elif ep is not None and not ep.closed and not self._settling(ep):
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

    @staticmethod
    def _unpublish_reason(ep: Endpoint) -> EndReason:
        """Janus unpublishes a stream when asked, and when it hangs up a publisher whose ICE
        failed (the plugin hears of the hangup before the event handler does)."""
        if ep.ice_failed:
            return EndReason.NETWORK_DISCONNECT
        return ep.connection.fate or EndReason.UNPUBLISH

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
        janus_session = self._janus_session(handle.janus_session_id)
        viewer = self._connection_of(handle)
        if viewer is not None and viewer.session.session_id == room:
            # A viewer that subscribed first now joins: the same participant, which from now
            # on also answers to its VideoRoom id.
            viewer.control_handle_id = handle.handle_id
            viewer.videoroom_id = data.id
            self._participants[(room, data.id)] = viewer
            handle.role = Role.PUBLISHER
            self._replay_pending(handle)
            return
        conn = self._new_connection(data.id, room, handle, ts, display=data.display, control=True)
        if janus_session is not None:
            janus_session.connection_id = conn.connection_id
        handle.role = Role.PUBLISHER
        self._replay_pending(handle)

    def _new_connection(
        self,
        connection_id: str,
        room: str,
        handle: Handle,
        ts: int,
        *,
        display: str | None,
        control: bool,
    ) -> Connection:
        """A participant enters the room: its connection, and ``participantJoined``."""
        session = self._sessions.get(room) or self._open_session(room, ts)
        identity, from_janus = self._participant_identity(connection_id, display)
        conn = Connection(
            connection_id=connection_id,
            session=session,
            identity=identity,
            janus_session_id=handle.janus_session_id,
            control_handle_id=handle.handle_id if control else None,
            joined_at_ms=ts,
            identity_from_janus=from_janus,
        )
        session.connections[connection_id] = conn
        self._connections[connection_id] = conn
        self._participants[(room, connection_id)] = conn
        self._out.append(
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

    def _viewer(self, handle: Handle, room: str, ts: int) -> Connection | None:
        """The participant behind a subscriber handle whose Janus session never joined the room
        as a participant (janus.js's usual viewer): one connection per Janus session, named by
        the rtcsim opaque id if it has one, else ``con_<Janus session id>``."""
        janus_session = self._janus_session(handle.janus_session_id)
        if janus_session is None:
            return None
        named = janus_session.connection_id
        if named is not None and named not in self._connections:
            connection_id = named
        else:
            connection_id = f"{VIEWER_PREFIX}{janus_session.janus_session_id}"
            if connection_id in self._connections:
                return None  # that viewer is in another room: a second room is a second id
        conn = self._new_connection(connection_id, room, handle, ts, display=None, control=False)
        janus_session.connection_id = connection_id
        return conn

    def _on_subscribing(self, event: JanusEvent, room: str, data: VideoRoomData) -> None:
        handle = self._handle_of(event)
        feeds = [s.feed_id for s in data.streams or [] if s.feed_id is not None]
        if handle is None or not feeds:
            self.counters["unattributed_subscription"] += 1
            return
        if handle.endpoint is not None and not handle.endpoint.closed:
            return  # an update of an existing subscription
        publisher_conn = self._participants.get((room, feeds[0]))
        publisher = publisher_conn.publisher if publisher_conn is not None else None
        if publisher is None or publisher.closed:
            self.counters["subscription_to_unknown_feed"] += 1
            return
        conn = self._connection_of(handle)
        if conn is None or conn.session.session_id != room:
            conn = self._viewer(handle, room, event.timestamp_ms)
        if conn is None:
            self.counters["unattributed_subscription"] += 1
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
