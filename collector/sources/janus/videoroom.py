"""The VideoRoom translator: the plugin's events (rooms created and destroyed, participants
joining, publishing, subscribing and leaving) as the session model's inputs."""

from __future__ import annotations

from collector.events.janus import JanusEvent, VideoRoomData
from collector.model.context import ModelContext
from collector.model.endpoints import EndpointTracker
from collector.model.leaves import LeaveSettler
from collector.model.registry import SessionRegistry
from collector.model.state import Connection, Endpoint, Role
from collector.reasons import EndReason
from collector.sources.janus.endpoint_events import JanusEndpointEvents
from collector.sources.janus.handles import Handle, JanusHandles

VIDEOROOM = "janus.plugin.videoroom"
VIEWER_PREFIX = "con_"
"""Connection ids the collector gives viewers Janus knows no participant id for."""


def published(ep: Endpoint, data: VideoRoomData) -> None:
    """What Janus's ``published`` tells of a stream: simulcast, and, when nobody announced
    the stream, which media it has."""
    streams = data.streams or []
    if any(bool(s.simulcast) for s in streams):
        ep.simulcast = True
    if not ep.announced and streams:
        kinds = {s.type for s in streams if not s.disabled}
        ep.stream = ep.stream.model_copy(
            update={"audioEnabled": "audio" in kinds, "videoEnabled": "video" in kinds}
        )


def unpublish_reason(ep: Endpoint) -> EndReason:
    """Janus unpublishes a stream when asked, and when it hangs up a publisher whose ICE
    failed (the plugin hears of the hangup before the event handler does)."""
    if ep.ice_failed:
        return EndReason.NETWORK_DISCONNECT
    return ep.connection.fate or EndReason.UNPUBLISH


class VideoRoomTranslator:
    """What the VideoRoom plugin reports, applied to sessions and connections."""

    def __init__(
        self,
        ctx: ModelContext,
        registry: SessionRegistry,
        endpoints: EndpointTracker,
        leaves: LeaveSettler,
        handles: JanusHandles,
        endpoint_events: JanusEndpointEvents,
    ) -> None:
        self._counters = ctx.counters
        self._registry = registry
        self._endpoints = endpoints
        self._leaves = leaves
        self._handles = handles
        self._endpoint_events = endpoint_events

    def on_event(self, event: JanusEvent, data: VideoRoomData) -> None:
        ts = event.timestamp_ms
        room = data.room
        kind = data.event
        if room is None:
            self._counters["plugin_without_room"] += 1
            return
        registry = self._registry
        if kind == "created":
            if room not in registry.sessions:
                registry.open_session(room, ts)
        elif kind == "destroyed":
            session = registry.sessions.get(room)
            if session is not None:
                # Who left before the room went keeps the reason of that leave (Janus sends
                # no ``leaving`` for a destroyed room's participants, so any is their own).
                self._leaves.settle(before_ms=0, session=session)
            if session is not None and session.open:
                registry.close_session(session, EndReason.SESSION_CLOSED_BY_SERVER, ts)
        elif kind == "joined":
            self._on_joined(event, room, data)
        elif kind == "configured":
            # The room's bitrate cap is what Janus sends the publisher as REMB.
            if event.handle_id is not None and data.bitrate is not None:
                self._handles.bitrates[event.handle_id] = data.bitrate
                handle = self._handles.handles.get(event.handle_id)
                if handle is not None and handle.endpoint is not None:
                    handle.endpoint.remb_bps = data.bitrate
        elif kind == "published":
            conn = self._participant(room, data.id, event)
            if conn is not None:
                published(self._endpoint_events.publisher(conn, ts), data)
        elif kind == "unpublished":
            conn = self._participant(room, data.id, event)
            if conn is not None and conn.publisher is not None and not conn.publisher.closed:
                self._endpoints.close(conn.publisher, unpublish_reason(conn.publisher), ts)
        elif kind == "subscribing":
            self._on_subscribing(event, room, data)
        elif kind == "unsubscribed":
            handle = self._handles.handle_of(event)
            ep = handle.endpoint if handle is not None else None
            if ep is not None and not ep.closed and ep.ice_failed:
                self._endpoints.network_failure(ep, ts)
            elif ep is not None and not ep.closed and not self._leaves.settling(ep):
                self._leaves.end_endpoint(ep, ts)
        elif kind in ("leaving", "kicked"):
            conn = self._participant(room, data.id, event)
            if conn is None:
                return
            if kind == "kicked" or conn.fate is not None or conn.janus_session_id is None:
                if kind == "kicked":
                    conn.fate = EndReason.FORCE_DISCONNECT_BY_SERVER
                registry.leave(conn, conn.fate or EndReason.DISCONNECT, ts)
            else:
                self._leaves.on_leaving(conn, ts)

    def _participant(self, room: str, pid: str | None, event: JanusEvent) -> Connection | None:
        """A participant by room and id (``leaving`` has no session/handle), else by handle."""
        if pid is not None:
            conn = self._registry.participants.get((room, pid))
            if conn is not None:
                return conn
        handles = self._handles
        handle = handles.handles.get(event.handle_id) if event.handle_id is not None else None
        conn = handles.connection_of(handle) if handle is not None else None
        if conn is None:
            self._counters["unattributed_plugin_event"] += 1
        return conn

    def _on_joined(self, event: JanusEvent, room: str, data: VideoRoomData) -> None:
        handles = self._handles
        handle = handles.handle_of(event)
        if data.id is None or handle is None or handle.role is Role.SUBSCRIBER:
            self._counters["unattributed_join"] += 1
            return
        registry = self._registry
        existing = registry.participants.get((room, data.id))
        if existing is not None and existing.open:
            return
        janus_session = handles.janus_session(handle.janus_session_id)
        viewer = handles.connection_of(handle)
        if viewer is not None and viewer.session.session_id == room:
            # A viewer that subscribed first now joins: the same participant, which from now
            # on also answers to its VideoRoom id.
            viewer.control_handle_id = handle.handle_id
            viewer.videoroom_id = data.id
            registry.participants[(room, data.id)] = viewer
            handle.role = Role.PUBLISHER
            self._endpoint_events.replay_pending(handle)
            return
        conn = registry.join(
            data.id,
            room,
            event.timestamp_ms,
            display=data.display,
            janus_session_id=handle.janus_session_id,
            control_handle_id=handle.handle_id,
        )
        if janus_session is not None:
            janus_session.connection_id = conn.connection_id
        handle.role = Role.PUBLISHER
        self._endpoint_events.replay_pending(handle)

    def _viewer(self, handle: Handle, room: str, ts: int) -> Connection | None:
        """The participant behind a subscriber handle whose Janus session never joined the room
        as a participant (janus.js's usual viewer): one connection per Janus session, named by
        the rtcsim opaque id if it has one, else ``con_<Janus session id>``."""
        janus_session = self._handles.janus_session(handle.janus_session_id)
        if janus_session is None:
            return None
        connections = self._registry.connections
        named = janus_session.connection_id
        if named is not None and named not in connections:
            connection_id = named
        else:
            connection_id = f"{VIEWER_PREFIX}{janus_session.janus_session_id}"
            if connection_id in connections:
                return None  # that viewer is in another room: a second room is a second id
        conn = self._registry.join(
            connection_id, room, ts, janus_session_id=handle.janus_session_id
        )
        janus_session.connection_id = connection_id
        return conn

    def _on_subscribing(self, event: JanusEvent, room: str, data: VideoRoomData) -> None:
        handle = self._handles.handle_of(event)
        feeds = [s.feed_id for s in data.streams or [] if s.feed_id is not None]
        if handle is None or not feeds:
            self._counters["unattributed_subscription"] += 1
            return
        if handle.endpoint is not None and not handle.endpoint.closed:
            return  # an update of an existing subscription
        publisher_conn = self._registry.participants.get((room, feeds[0]))
        publisher = publisher_conn.publisher if publisher_conn is not None else None
        if publisher is None or publisher.closed:
            self._counters["subscription_to_unknown_feed"] += 1
            return
        conn = self._handles.connection_of(handle)
        if conn is None or conn.session.session_id != room:
            conn = self._viewer(handle, room, event.timestamp_ms)
        if conn is None:
            self._counters["unattributed_subscription"] += 1
            return
        ep = self._endpoints.open_subscriber(
            conn, publisher, event.timestamp_ms, key=handle.handle_id
        )
        handle.role = Role.SUBSCRIBER
        handle.endpoint = ep
        self._endpoint_events.replay_pending(handle)
