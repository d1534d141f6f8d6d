"""The leave settler: leaves and ended subscriptions waiting to learn why.

A server may say that a participant leaves before it says why (Janus's ``leaving`` comes before
the Janus session's ``destroyed`` or ``timeout`` that explains it), and may end a subscription
before the leave it is part of. Such ends wait here: for the event that explains them, or for
``LEAVING_GRACE_MS`` without one. Their time is when they were said either way.
"""

from __future__ import annotations

from collector.model.endpoints import EndpointTracker
from collector.model.registry import SessionRegistry
from collector.model.state import Connection, Endpoint, Role, Session
from collector.reasons import EndReason

LEAVING_GRACE_MS = 1_500
"""How long a ``leaving`` waits for its Janus session's ``destroyed`` or ``timeout``."""


def own_end(ep: Endpoint) -> EndReason:
    """The reason of an endpoint ended for nothing else: its client stopped it."""
    return EndReason.UNPUBLISH if ep.role is Role.PUBLISHER else EndReason.UNSUBSCRIBE


class LeaveSettler:
    def __init__(self, registry: SessionRegistry, endpoints: EndpointTracker) -> None:
        self._registry = registry
        self._endpoints = endpoints
        self.leaving: dict[str, tuple[Connection, int]] = {}
        """Participants that left, not yet told why, by connection id."""
        self.ending: dict[int, tuple[Endpoint, int]] = {}
        """Endpoints the server ended, not yet told why (a timed-out Janus session's handles may
        go before its ``leaving`` and its ``timeout``; LiveKit unpublishes a leaving
        participant's tracks just before it says it left), by ``id(endpoint)``."""

    def on_leaving(self, conn: Connection, ts: int) -> None:
        """``conn`` left at ``ts``; why is said later (``settle``)."""
        self.leaving[conn.connection_id] = (conn, ts)
        conn.leaving_at_ms = ts

    def end_endpoint(self, ep: Endpoint, ts: int) -> None:
        """An endpoint the server ended: with its connection's known fate now, else after the
        grace period as its own end (``unsubscribe``, ``unpublish``) unless its participant
        leaves meanwhile (then with the leave's reason)."""
        if ep.connection.fate is not None:
            self._endpoints.close(ep, ep.connection.fate, ts)
        elif id(ep) not in self.ending:
            ep.ended_at_ms = ts
            self.ending[id(ep)] = (ep, ts)

    def settling(self, ep: Endpoint) -> bool:
        """The endpoint ends with a leave whose reason is not known yet (its own participant's,
        or its publisher's): it is closed when that leave settles, with that reason, not as an
        ``unsubscribe`` of its own."""
        return ep.connection.connection_id in self.leaving or (
            ep.receiving_from is not None and ep.receiving_from in self.leaving
        )

    def ending_since(self, conn: Connection, since_ms: int) -> int | None:
        """Take the ended subscriptions of ``conn`` from ``since_ms`` on out of waiting (they
        are part of its leave); the earliest of their times, or None."""
        first: int | None = None
        for ep in conn.subscribers.values():
            ending = self.ending.get(id(ep))
            if ending is not None and ending[1] >= since_ms:
                del self.ending[id(ep)]
                first = ending[1] if first is None else min(first, ending[1])
        return first

    def settle(
        self,
        before_ms: int,
        janus_session_id: int | None = None,
        session: Session | None = None,
    ) -> None:
        """Settle the leaves and endings older than ``before_ms``, and those of one Janus
        session or of one room whatever their age."""
        if not self.ending and not self.leaving:
            return  # the usual case: it runs before every event
        for key, (ep, ts) in list(self.ending.items()):
            mine = (
                janus_session_id is not None and ep.connection.janus_session_id == janus_session_id
            ) or ep.connection.session is session
            if ep.closed:
                del self.ending[key]
            elif ts < before_ms or mine:
                del self.ending[key]
                self._endpoints.close(ep, ep.connection.fate or own_end(ep), ts)
        for connection_id, (conn, ts) in list(self.leaving.items()):
            if (
                ts < before_ms
                or conn.janus_session_id == janus_session_id is not None
                or conn.session is session
            ):
                del self.leaving[connection_id]
                self._registry.leave(conn, conn.fate or EndReason.DISCONNECT, ts)
