"""Participants a run dropped, until the media server notices (``drop`` steps).

A dropped participant sends nothing more, not even a goodbye, so only the server's own timers
end it: Janus 1.1's ICE keepalive connectivity checks (``ice_keepalive_conncheck``: libnice fails
a pair 50 s after its last answer, keepalives go every 25 s, Janus hangs up 5 s later) for its
PeerConnections, and its session's timeout for the participant itself. Until then the server
still counts it in the room, so what depends on it happens when the server notices, not at the
drop: the streams of its subscribers end then (with its ``networkDisconnect``; a subscriber that
left before keeps its own reason), and if it was the last one in the room, the session closes
then (``lastParticipantLeft``).

So the runner asks Janus (``listparticipants``, every ``POLL_S``) and books those ends at the
moment Janus shows them, and it does not destroy a room that still holds a dropped participant
(``settle``), up to the detection bound: a room destroyed earlier would end the participant, its
streams and the session as ``sessionClosedByServer``, which is not what the server would have
said left alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from simulator.ledger import (
    ConnectionRecord,
    PublicationRecord,
    SubscriptionRecord,
    now_ms,
)
from simulator.player.context import PendingDrop, RunContext

log = logging.getLogger(__name__)

POLL_S = 0.5


def watch(
    ctx: RunContext,
    who: str,
    room: str,
    record: ConnectionRecord,
    on_media_noticed: Callable[[], Awaitable[None]] | None,
    subscriptions: list[SubscriptionRecord],
) -> None:
    """Start asking Janus about a connection just dropped; ``on_media_noticed`` (for one that
    published) runs when Janus stops listing it as a publisher; ``subscriptions`` are those the
    drop ended, which their publisher may still end first for the server."""
    pending = PendingDrop(who, room, record, on_media_noticed, provisional=list(subscriptions))
    ctx.pending_drops[record.connection_id] = pending
    pending.task = asyncio.create_task(_watch(ctx, pending), name=f"drop-{who}")


async def _watch(ctx: RunContext, pending: PendingDrop) -> None:
    record = pending.record
    deadline = record.left_ms or now_ms()
    deadline += int(ctx.drop_detection_s * 1000)
    media_noticed = pending.on_media_noticed is None
    try:
        while now_ms() < deadline:
            try:
                listed = await ctx.on_media(ctx.server.participants(record.session_id))
            except Exception as exc:  # the room is gone (destroyed by a step): nothing to wait for
                log.info("%s: room %s no longer answers (%s)", pending.who, record.session_id, exc)
                return
            if not media_noticed and not listed.get(record.connection_id, False):
                # Janus hung up its publisher: the subscriptions still open end now.
                media_noticed = True
                if pending.on_media_noticed is not None:
                    await pending.on_media_noticed()
            if record.connection_id not in listed:
                record.noticed_ms = now_ms()
                await _evicted(ctx, pending)
                return
            await asyncio.sleep(POLL_S)
        log.warning(
            "%s was dropped %.0f s ago and the server still lists it",
            pending.who,
            ctx.drop_detection_s,
        )
    finally:
        ctx.pending_drops.pop(record.connection_id, None)


async def _evicted(ctx: RunContext, pending: PendingDrop) -> None:
    """The server let the participant go: if the room has nobody else, its session ends."""
    session = ctx.ledger.sessions[pending.room]
    sid = pending.record.session_id
    others = [p for p in ctx.pending_drops.values() if p is not pending and p.room == pending.room]
    if ctx.occupants(sid) or others or session.destroyed_by_server:
        return
    if session.closed_ms is None or session.closed_ms < (pending.record.noticed_ms or 0):
        session.closed_ms = pending.record.noticed_ms
    await ctx.room_closed(pending.room, "lastParticipantLeft")


def feed_ended(ctx: RunContext, feed: str, reason: str, at_ms: int) -> list[SubscriptionRecord]:
    """A publisher's end ends the subscriptions of dropped participants the server still
    holds, too: with the publisher's reason, now, as the server reports it. Those it ended."""
    ended: list[SubscriptionRecord] = []
    for pending in ctx.pending_drops.values():
        for sub in [s for s in pending.provisional if s.receiving_from == feed]:
            sub.end, sub.ended_ms = reason, at_ms
            pending.provisional.remove(sub)
            ended.append(sub)
    return ended


def overtaken(ctx: RunContext, room: str, at_ms: int, reason: str) -> None:
    """The room was destroyed while the server still held a dropped participant: the server
    ends it (and its streams, if ICE cannot have noticed yet) for that reason, now."""
    for pending in [p for p in ctx.pending_drops.values() if p.room == room]:
        record = pending.record
        dropped_ms = record.left_ms or at_ms
        record.end, record.left_ms = reason, at_ms
        if at_ms - dropped_ms < ctx.drop_noticed_after_s * 1000:
            items: list[PublicationRecord | SubscriptionRecord] = [
                *record.publications,
                *record.subscriptions,
            ]
            for item in items:
                if item.ended_ms is not None and item.ended_ms >= dropped_ms:
                    item.end, item.ended_ms = reason, at_ms
        if pending.task is not None:
            pending.task.cancel()
        ctx.pending_drops.pop(record.connection_id, None)


def in_server_view(ctx: RunContext, room: str) -> bool:
    """Whether a dropped participant of ``room`` is still listed by the server."""
    return any(p.room == room for p in ctx.pending_drops.values())


async def settle(ctx: RunContext) -> None:
    """Wait until the server noticed every drop, up to the detection bound (each watch ends
    by itself then)."""
    tasks = [p.task for p in ctx.pending_drops.values() if p.task is not None]
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)


async def cancel(ctx: RunContext) -> None:
    """Stop watching (the media server is lost, or the run is over)."""
    tasks = [p.task for p in ctx.pending_drops.values() if p.task is not None]
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
