"""Janus's event handler (``janus.eventhandler.sampleevh``) as an event source.

Events arrive in batches, in the order Janus emitted them, typed by ``collector.events.janus``.
Before each one, leaves that waited longer than the grace period for a reason settle (by the
event's own time, so a replayed capture settles the same way).
"""

from __future__ import annotations

from collector.documents import Document
from collector.events.janus import (
    CoreEvent,
    EventType,
    HandleEvent,
    JanusEvent,
    MediaStatsEvent,
    PluginEvent,
    SessionEvent,
    parse_event,
)
from collector.journal import EVENT
from collector.journal_index import STATELESS, Key, Owner
from collector.model.leaves import LEAVING_GRACE_MS
from collector.model.state import Role, Session
from collector.session_model import SessionModel
from collector.sources.janus.endpoint_events import JanusEndpointEvents
from collector.sources.janus.handles import JanusHandles
from collector.sources.janus.videoroom import VIDEOROOM, VideoRoomTranslator

_EVENT_NAMES = {t: t.name.lower() for t in EventType}


class JanusEventSource:
    name = "janus"
    journal_kind = EVENT

    def __init__(self, model: SessionModel) -> None:
        self._model = model
        ctx = model.ctx
        self._counters = ctx.counters
        self.handles = JanusHandles(model.registry, model.endpoints, model.leaves)
        self.endpoint_events = JanusEndpointEvents(ctx, self.handles, model.endpoints)
        self.videoroom = VideoRoomTranslator(
            ctx, model.registry, model.endpoints, model.leaves, self.handles, self.endpoint_events
        )
        model.on_media_server_lost(self.handles.forget)

    def parse(self, raw: object) -> JanusEvent:
        return parse_event(raw)

    def label(self, raw: object) -> str:
        return str(raw.get("type") if isinstance(raw, dict) else None)

    def kind(self, event: JanusEvent) -> str:
        return _EVENT_NAMES[event.type]

    def ignored(self, event: JanusEvent) -> bool:
        """Transport and external events: nothing of a session in them."""
        return event.type in (EventType.TRANSPORT, EventType.EXTERNAL)

    def session_of(self, event: JanusEvent) -> Session | None:
        """The room of the event's Janus session's participant, while it is in it; for a
        VideoRoom event of no participant's (a room created or destroyed), its room's."""
        registry = self._model.registry
        sid = event.session_id
        janus_session = self.handles.janus_sessions.get(sid) if sid is not None else None
        if janus_session is not None and janus_session.connection_id is not None:
            conn = registry.open_connection(janus_session.connection_id)
            if conn is not None:
                return conn.session
        payload = event.payload
        if isinstance(payload, PluginEvent) and payload.data is not None:
            room = payload.data.room
            if room is not None:
                return registry.sessions.get(room)
        return None

    def owner(self, event: JanusEvent, before: Session | None, produced: bool) -> Owner:
        """A participant's events are its room's; before its join (a Janus session created,
        its handles attached) or after its leave they are its Janus session's, which becomes
        the room's with the join. Media stats that made no document are superseded by the
        next of the same handle and m-line (their counters are cumulative)."""
        sid = event.session_id
        session = before if before is not None else self.session_of(event)
        if sid is None:
            # A core event (no session's state), or a room's own event without a session id.
            return STATELESS if session is None else Owner(session)
        if session is None:
            return Owner(keys=(("janus", sid),))
        keys: tuple[Key, ...] = (("janus", sid), ("room", session.session_id))
        janus_session = self.handles.janus_sessions.get(sid)
        if janus_session is not None and janus_session.connection_id is not None:
            keys += (("conn", janus_session.connection_id),)
        superseding: Key | None = None
        payload = event.payload
        if not produced and isinstance(payload, MediaStatsEvent) and event.handle_id is not None:
            handle = self.handles.handles.get(event.handle_id)
            ep = handle.endpoint if handle is not None else None
            if ep is not None and (
                ep.role is Role.PUBLISHER or payload.remb_bitrate is not None or not ep.remb_bps
            ):
                superseding = ("stats", event.handle_id, payload.media)
        return Owner(session, keys, superseding)

    def holds(self, janus_session_id: int) -> bool:
        """Whether the Janus session is still alive (its ``("janus", id)`` lines matter)."""
        return janus_session_id in self.handles.janus_sessions

    def apply(self, event: JanusEvent) -> list[Document]:
        """Apply one Janus event; return the documents it produced."""
        model = self._model
        model.leaves.settle(before_ms=event.timestamp_ms - LEAVING_GRACE_MS)
        payload = event.payload
        if isinstance(payload, SessionEvent):
            self.handles.on_session(event, payload)
        elif isinstance(payload, HandleEvent):
            self.handles.on_handle(event, payload)
        elif isinstance(payload, PluginEvent):
            if payload.plugin == VIDEOROOM and payload.data is not None:
                self.videoroom.on_event(event, payload.data)
            else:
                self._counters["other_plugin"] += 1
        elif isinstance(payload, CoreEvent):
            if payload.status == "shutdown":
                return model.media_server_lost(event.timestamp_ms)
        elif event.ignored:
            self._counters["ignored"] += 1
        else:
            self.endpoint_events.on_event(event)
        return model.drain()
