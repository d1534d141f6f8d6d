"""Janus's session and handle events: who a Janus session is, and what its end means.

A handle attached with an ``rtcsim:<connectionId>`` opaque id names its Janus session's
participant. A Janus session ending (``destroyed``, or ``timeout``: ``networkDisconnect``) takes
its participant out; a control handle detached takes the participant out of the room, a
subscriber's handle detached ends that subscription.
"""

from __future__ import annotations

from collector.janus_events import HandleEvent, JanusEvent, SessionEvent
from collector.model.lifecycle import LEAVING_GRACE_MS, SessionLifecycle
from collector.reasons import EndReason
from collector.session_state import Connection, JanusSession

OPAQUE_PREFIX = "rtcsim:"


class JanusHandles(SessionLifecycle):
    """Janus sessions and handles, kept from Janus's own events."""

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
            self._bitrates.pop(hid, None)
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

    def _watching(self, conn: Connection) -> bool:
        """Whether a viewer still holds a subscription that neither Janus nor it has ended."""
        return any(
            not ep.closed and id(ep) not in self._ending and ep.handle_id in self._handles
            for ep in conn.subscribers.values()
        )

    def _viewer_left_at(self, conn: Connection, ts: int) -> int:
        """A viewer has no ``leaving`` of its own: letting go of its subscriptions one after
        another is its leave. Those Janus ended within the grace period before the last one
        are part of it (they end with the leave's reason, not as unsubscribes), and the leave
        dates from the first of them."""
        left = ts
        for ep in conn.subscribers.values():
            ending = self._ending.get(id(ep))
            if ending is not None and ending[1] >= ts - LEAVING_GRACE_MS:
                del self._ending[id(ep)]
                left = min(left, ending[1])
        return left

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
        self._bitrates.pop(event.handle_id, None)
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
        elif conn.control_handle_id is None and not self._watching(conn):
            # A viewer (no participant handle) let go of its last subscription: it leaves the
            # room, as of when that subscription ended. Why waits, as for a ``leaving``.
            if conn.connection_id not in self._leaving:
                self._on_leaving(conn, self._viewer_left_at(conn, event.timestamp_ms))
        elif handle.endpoint is not None and not handle.endpoint.closed:
            if handle.endpoint.ice_failed:
                self._network_failure(handle.endpoint, event.timestamp_ms)
            elif not self._settling(handle.endpoint):
                self._end_subscription(handle.endpoint, event.timestamp_ms)
