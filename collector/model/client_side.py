"""What only the client can say, for a media server that does not (LiveKit): subscriptions
begun and ended, and endpoint events its own WebRTC stack observed. Their documents are marked
``rtcsim_side: client``; the server's own events still decide what they can (a publisher's end
cascades to its subscribers with the server's reason, a participant's leave to its
subscriptions), and nothing here is invented: a subscription nobody reported has no documents.

A subscription may be reported before the server's events made its publisher (the client sees
the publisher's tracks in its signalling while the server's webhook is under way): it waits, up
to ``MAX_WAITING`` per session, until the publisher's endpoint opens (``publisher_opened``).
"""

from __future__ import annotations

from collector.documents import KmsEvent
from collector.metadata import ClientEndpointEvent, SubscriptionInput
from collector.model.context import ModelContext
from collector.model.endpoints import EndpointTracker
from collector.model.leaves import LeaveSettler
from collector.model.registrations import Registrations
from collector.model.registry import SessionRegistry, UnknownSessionError
from collector.model.state import Connection, Endpoint
from collector.reasons import EndReason

MAX_WAITING = 1_000
CLIENT_KEY = "client:"
"""The prefix of a client-reported subscription's key: ``client:<receivingFrom>``."""


class ClientSide:
    def __init__(
        self,
        ctx: ModelContext,
        registrations: Registrations,
        registry: SessionRegistry,
        endpoints: EndpointTracker,
        leaves: LeaveSettler,
    ) -> None:
        self._ctx = ctx
        self._registrations = registrations
        self._registry = registry
        self._endpoints = endpoints
        self._leaves = leaves
        self.waiting: dict[str, list[SubscriptionInput]] = {}
        """Subscriptions reported before their publisher's endpoint opened, by session."""

    def _connection(self, session_id: str, connection_id: str) -> Connection:
        session = self._registry.known_session(session_id)
        conn = self._registry.open_connection(connection_id)
        if conn is None or conn.session is not session:
            raise UnknownSessionError(
                f"connectionId {connection_id!r} is not in session {session_id!r}"
            )
        return conn

    def subscription(self, sub: SubscriptionInput) -> None:
        conn = self._connection(sub.sessionId, sub.connectionId)
        key = CLIENT_KEY + sub.receivingFrom
        pair = (sub.connectionId, sub.receivingFrom)
        ep = conn.subscribers.get(key)
        if sub.status == "started":
            if ep is not None and not ep.closed:
                self._ctx.counters["client_subscription_repeated"] += 1
                return
            publisher = self._publisher(sub.receivingFrom, conn)
            if publisher is None:
                self._wait(sub)
                return
            ep = self._endpoints.open_subscriber(
                conn, publisher, sub.timestamp, key=key, client_side=True
            )
            self._endpoints.start(ep, sub.timestamp)
            return
        waiting = self.waiting.get(sub.sessionId, [])
        kept = [w for w in waiting if (w.connectionId, w.receivingFrom) != pair]
        if len(kept) < len(waiting):
            # It never began for the server's events: nothing to end.
            self.waiting[sub.sessionId] = kept
            return
        if ep is None or ep.closed:
            return  # already ended by the server's events (unpublish, a leave): theirs stands
        if sub.reason is not None:
            self._endpoints.close(ep, sub.reason, sub.timestamp)
        elif self._publisher_ending(ep):
            # Its publisher is unpublishing, waiting to learn why: the subscription ends with it.
            self._leaves.end_endpoint(ep, sub.timestamp)
        else:
            self._endpoints.close(ep, EndReason.UNSUBSCRIBE, sub.timestamp)

    def _publisher(self, connection_id: str, subscriber: Connection) -> Endpoint | None:
        conn = self._registry.open_connection(connection_id)
        if conn is None or conn.session is not subscriber.session:
            return None
        ep = conn.publisher
        return ep if ep is not None and not ep.closed else None

    def _publisher_ending(self, ep: Endpoint) -> bool:
        conn = self._registry.open_connection(ep.receiving_from)
        publisher = conn.publisher if conn is not None else None
        return publisher is not None and publisher.ended_at_ms is not None

    def _wait(self, sub: SubscriptionInput) -> None:
        waiting = self.waiting.setdefault(sub.sessionId, [])
        if len(waiting) >= MAX_WAITING:
            self._ctx.counters["client_subscription_overflow"] += 1
            return
        waiting.append(sub)

    def publisher_opened(self, session_id: str) -> None:
        """A publisher endpoint opened in ``session_id``: the subscriptions waiting for it begin."""
        waiting = self.waiting.pop(session_id, None)
        for sub in waiting or ():
            try:
                self.subscription(sub)
            except UnknownSessionError:
                self._ctx.counters["client_subscription_orphaned"] += 1

    def forget_closed(self) -> None:
        """What waits in sessions that closed never began."""
        for session_id in [s for s in self.waiting if s not in self._registry.sessions]:
            dropped = self.waiting.pop(session_id)
            self._ctx.counters["client_subscription_never_began"] += len(dropped)

    def endpoint_event(self, event: ClientEndpointEvent) -> None:
        """A kms document from what the client observed."""
        session = self._registry.known_session(event.sessionId)
        conn = session.connections.get(event.connectionId)
        identity = (
            conn.identity if conn is not None else self._registrations.identity(event.connectionId)
        )
        self._ctx.out.append(
            KmsEvent.model_validate(
                {
                    **event.model_dump(exclude={"sessionId", "connectionId"}, exclude_none=True),
                    "session": session.session_id,
                    "sessionId": session.session_id,
                    "uniqueSessionId": session.unique_id,
                    "user": identity.user,
                    "connection": event.connectionId,
                    "connectionId": event.connectionId,
                    "rtcsim_run_id": session.run_id,
                    "rtcsim_side": "client",
                }
            )
        )
