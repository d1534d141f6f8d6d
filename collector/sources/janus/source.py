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
    PluginEvent,
    SessionEvent,
    parse_event,
)
from collector.journal import EVENT
from collector.model.leaves import LEAVING_GRACE_MS
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
