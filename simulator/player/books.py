"""Closing the ledger's books on what ended: subscriptions, publications, and what a
publisher's end ends with it.

What is booked here is the simulator's ground truth: an end is dated when the simulator caused
it (its goodbye, between asking and the last answer), not when the books happened to be closed,
which on a busy generator can be seconds later.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from simulator.ledger import (
    ConnectionRecord,
    MediaCounters,
    PublicationRecord,
    SubscriptionRecord,
    now_ms,
)
from simulator.participant import Participant
from simulator.player import client_side, drops, media_records
from simulator.player.context import RunContext


def goodbyes(ctx: RunContext) -> dict[str, int]:
    """When each connection said goodbye, of those that have (``ConnectionRecord``)."""
    return {
        c.connection_id: c.leave_asked_ms
        for p in ctx.ledger.participants.values()
        for c in p.connections
        if c.leave_asked_ms is not None
    }


def ended_between(
    closed: Sequence[PublicationRecord | SubscriptionRecord],
    asked_ms: int | None,
    answered_ms: int,
    goodbyes: dict[str, int] | None = None,
) -> None:
    """What a goodbye (leave, unpublish, unsubscribe) ends, the server ends while handling it:
    between the moment it was sent (``asked_ms``; None: when the books were closed, just
    before it) and the moment its last answer was read (``ledger``). Not when the books were
    closed: on a busy generator that is seconds away from the goodbye."""
    for record in closed:
        record.ended_ms = asked_ms or record.ended_ms
        record.end_answered_ms = answered_ms
        # A viewer leaving while its publisher's goodbye is still being booked: the server
        # ended the subscription with the publisher's, the earlier (``goodbyes``).
        feed = record.receiving_from if isinstance(record, SubscriptionRecord) else None
        earlier = (goodbyes or {}).get(feed or "")
        if earlier is not None and record.ended_ms is not None:
            record.ended_ms = min(record.ended_ms, earlier)


def close_subscriptions(
    conn: ConnectionRecord, participant: Participant, feed: str, why: str
) -> list[SubscriptionRecord]:
    state = participant.subscriptions.get(feed)
    closed: list[SubscriptionRecord] = []
    for subscription in conn.subscriptions:
        if subscription.receiving_from == feed and subscription.ended_ms is None:
            closed.append(subscription)
            subscription.ended_ms = now_ms()
            subscription.end = why
            if state is not None:
                subscription.bytes_received = state.bytes_received
                if state.first_frame_s is not None:
                    subscription.first_frame_ms = subscription.started_ms + int(
                        state.first_frame_s * 1000
                    )
                subscription.received = {
                    kind: MediaCounters(c.frames, c.packets, c.bytes)
                    for kind, c in state.received.items()
                }
                media_records.subscription_layers(subscription, state)
                media_records.subscription_reception(subscription, state)
    return closed


async def cascade_feed_end(ctx: RunContext, feed: str, reason: str) -> list[SubscriptionRecord]:
    """A publisher's end ends every subscription to it, with the publisher's reason (as
    OpenVidu reports it). The subscribers' peers are left for Janus to hang up; what they
    received is read first (their counters are otherwise only read when they end)."""
    closed: list[SubscriptionRecord] = []
    for name, other in list(ctx.participants.items()):
        if feed in other.subscriptions:
            with contextlib.suppress(Exception):  # best effort, as at a connection's end
                await ctx.on_media(other.refresh_subscription(feed))
            conn = ctx.ledger.participants[name].current
            closed += close_subscriptions(conn, other, feed, reason)
    await client_side.feed_ended(ctx, feed)
    return closed + drops.feed_ended(ctx, feed, reason, now_ms())


def close_publications(
    conn: ConnectionRecord, participant: Participant, why: str
) -> list[PublicationRecord]:
    closed = [p for p in conn.publications if p.ended_ms is None]
    for publication in closed:
        publication.ended_ms = now_ms()
        publication.end = why
        publication.sent = {
            kind: MediaCounters(c.frames, c.packets, c.bytes)
            for kind, c in participant.sent.items()
        }
        if participant.publisher is not None:
            media_records.publication_media(publication, participant.publisher)
    return closed
