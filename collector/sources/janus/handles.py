"""Janus sessions and handles: who a Janus session is, and what its end means.

A handle attached with an ``rtcsim:<connectionId>`` opaque id names its Janus session's
participant. A Janus session ending (``destroyed``, or ``timeout``: ``networkDisconnect``) takes
its participant out; a control handle detached takes the participant out of the room, a
subscriber's handle detached ends that subscription.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from collector.events.janus import HandleEvent, JanusEvent, SessionEvent
from collector.model.endpoints import EndpointTracker
from collector.model.leaves import LEAVING_GRACE_MS, LeaveSettler
from collector.model.registry import SessionRegistry
from collector.model.state import Connection, Endpoint, Role
from collector.reasons import EndReason

OPAQUE_PREFIX = "rtcsim:"


@dataclass
class Handle:
    """A Janus plugin handle; events for it are buffered until we know what endpoint it is."""

    handle_id: int
    janus_session_id: int | None
    role: Role | None = None
    endpoint: Endpoint | None = None
    pending: list[JanusEvent] = field(default_factory=list)


@dataclass
class JanusSession:
    """A Janus session: one participant's signalling context, named by its opaque id."""

    janus_session_id: int
    connection_id: str | None = None
    handles: dict[int, Handle] = field(default_factory=dict)


class JanusHandles:
    """Janus sessions and handles, kept from Janus's own events."""

    def __init__(
        self, registry: SessionRegistry, endpoints: EndpointTracker, leaves: LeaveSettler
    ) -> None:
        self._registry = registry
        self._endpoints = endpoints
        self._leaves = leaves
        self.janus_sessions: dict[int, JanusSession] = {}
        self.handles: dict[int, Handle] = {}
        self.bitrates: dict[int, int] = {}
        """The room's bitrate cap by publisher handle (``configured``): the REMB Janus sends."""

    def forget(self) -> None:
        """Janus is gone: its sessions and handles with it."""
        self.janus_sessions.clear()
        self.handles.clear()
        self.bitrates.clear()

    # -- lookups
    def janus_session(self, sid: int | None) -> JanusSession | None:
        return None if sid is None else self.janus_sessions.get(sid)

    def handle_of(self, event: JanusEvent) -> Handle | None:
        """The handle an event is about, created on first sight (we may have missed its attach)."""
        hid = event.handle_id
        if hid is None:
            return None
        handle = self.handles.get(hid)
        if handle is None:
            if event.session_id is None:
                return None
            janus_session = self.janus_sessions.setdefault(
                event.session_id, JanusSession(event.session_id)
            )
            handle = Handle(hid, event.session_id)
            self.handles[hid] = handle
            janus_session.handles[hid] = handle
        return handle

    def connection_of_janus_session(self, janus_session: JanusSession) -> Connection | None:
        return self._registry.open_connection(janus_session.connection_id)

    def connection_of(self, handle: Handle) -> Connection | None:
        janus_session = self.janus_session(handle.janus_session_id)
        return None if janus_session is None else self.connection_of_janus_session(janus_session)

    # -- events
    def on_session(self, event: JanusEvent, payload: SessionEvent) -> None:
        sid = event.session_id
        if sid is None:
            return
        if payload.name == "created":
            self.janus_sessions.setdefault(sid, JanusSession(sid))
            return
        if payload.name not in ("destroyed", "timeout"):
            return
        janus_session = self.janus_sessions.pop(sid, None)
        if janus_session is None:
            return
        for hid in janus_session.handles:
            self.handles.pop(hid, None)
            self.bitrates.pop(hid, None)
        conn = self.connection_of_janus_session(janus_session)
        if conn is None:
            return
        if payload.name == "timeout":
            conn.fate = conn.fate or EndReason.NETWORK_DISCONNECT
        if conn.connection_id in self._leaves.leaving:
            self._leaves.settle(before_ms=0, janus_session_id=sid)
            return
        self._registry.leave(conn, conn.fate or EndReason.DISCONNECT, event.timestamp_ms)
        self._leaves.settle(before_ms=0, janus_session_id=sid)

    def _watching(self, conn: Connection) -> bool:
        """Whether a viewer still holds a subscription that neither Janus nor it has ended."""
        ending = self._leaves.ending
        return any(
            not ep.closed and id(ep) not in ending and ep.key in self.handles
            for ep in conn.subscribers.values()
        )

    def _viewer_left_at(self, conn: Connection, ts: int) -> int:
        """A viewer has no ``leaving`` of its own: letting go of its subscriptions one after
        another is its leave. Those Janus ended within the grace period before the last one
        are part of it (they end with the leave's reason, not as unsubscribes), and the leave
        dates from the first of them."""
        first = self._leaves.ending_since(conn, ts - LEAVING_GRACE_MS)
        return ts if first is None else min(ts, first)

    def on_handle(self, event: JanusEvent, payload: HandleEvent) -> None:
        if event.handle_id is None:
            return
        if payload.name == "attached":
            handle = self.handle_of(event)
            opaque = payload.opaque_id or ""
            if handle is not None and opaque.startswith(OPAQUE_PREFIX):
                janus_session = self.janus_session(handle.janus_session_id)
                if janus_session is not None and janus_session.connection_id is None:
                    janus_session.connection_id = opaque[len(OPAQUE_PREFIX) :]
            return
        if payload.name != "detached":
            return
        self.bitrates.pop(event.handle_id, None)
        handle = self.handles.pop(event.handle_id, None)
        if handle is None:
            return
        janus_session = self.janus_session(handle.janus_session_id)
        if janus_session is not None:
            janus_session.handles.pop(handle.handle_id, None)
        conn = self.connection_of(handle)
        if conn is None:
            return
        leaves = self._leaves
        if conn.control_handle_id == handle.handle_id:
            # The control handle going away takes the participant out of the room, unless it
            # already said ``leaving`` and we are still waiting to learn why.
            if conn.connection_id not in leaves.leaving:
                self._registry.leave(conn, conn.fate or EndReason.DISCONNECT, event.timestamp_ms)
        elif conn.control_handle_id is None and not self._watching(conn):
            # A viewer (no participant handle) let go of its last subscription: it leaves the
            # room, as of when that subscription ended. Why waits, as for a ``leaving``.
            if conn.connection_id not in leaves.leaving:
                leaves.on_leaving(conn, self._viewer_left_at(conn, event.timestamp_ms))
        elif handle.endpoint is not None and not handle.endpoint.closed:
            if handle.endpoint.ice_failed:
                self._endpoints.network_failure(handle.endpoint, event.timestamp_ms)
            elif not leaves.settling(handle.endpoint):
                leaves.end_endpoint(handle.endpoint, event.timestamp_ms)
