"""What the client says for a media server whose own events do not (LiveKit): subscriptions
and endpoint (ICE) events.

LiveKit sends no webhook when a participant subscribes or unsubscribes
(``livekit-findings.md`` §2), so the collector learns of a subscription only from the simulator
(``POST /subscriptions``; its documents are marked ``rtcsim_side: client``). Only what the
client itself causes is posted: a subscription begun, and one it ended (``unsubscribe``); ends
the server causes (the publisher unpublished or left, the subscriber left) come from the
server's events, which the collector cascades. On Janus nothing is posted: its events have it.

Nor does LiveKit report ICE: each endpoint's ``kms`` documents are then what the client's own
peer connection went through (``peers.ice_log``), posted as ``POST /client-events`` for as long
as the endpoint lives: what the connection went through up to the endpoint's come-up, then
what came since at every client-stats round (``player.client_stats``), and at its end (an
unpublish, an unsubscribe, its publisher's end, the participant leaving, dropped, kicked or
removed with its room) what came up to it: after the peer connection closed, when the end
closes it, so its ``DISCONNECTED`` is among them. Each endpoint keeps how many of its log's
events it posted: every event goes once, none after the endpoint ended. A failed post is
logged, never fatal; its events are not posted again (the kms presence check then says).

An endpoint is named as the server-side ones are: a publication's streamId,
``<subscriber>_<streamId>`` for a subscription. LiveKit carries every subscription of a
participant on one subscriber connection, made at the join, and keeps a participant's publisher
connection from one publication to the next: each endpoint has its connection's history from
the connection's creation up to the endpoint's end (``msSinceEndpointCreation`` counts from the
connection's creation). A subscription that ends while its connection stays up (unsubscribed,
its publisher gone) ends with the connection's last state then, ``READY``: the
``DISCONNECTED`` the connection reaches later, when its participant leaves, is not that
endpoint's. Its re-subscription is the same endpoint again and goes on where it stopped.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiortc import RTCPeerConnection

from simulator.driver.capabilities import ServerReport
from simulator.ledger import now_ms
from simulator.participant import Participant
from simulator.peers.ice_log import IceLog, ice_log
from simulator.player.context import RunContext

log = logging.getLogger(__name__)


def server_reports_subscribers(ctx: RunContext) -> bool:
    return ServerReport.SUBSCRIBERS.value in ctx.ledger.server.reports


async def report_subscription(
    ctx: RunContext,
    session_id: str,
    subscriber: Participant,
    publisher: Participant,
    status: Literal["started", "ended"],
) -> None:
    """Post one subscription change, named as the server's events name both ends; a failure
    is logged, never fatal to the run (the checks then miss the subscriber's documents)."""
    if server_reports_subscribers(ctx):
        return
    try:
        await ctx.collector.post(
            "/subscriptions",
            {
                "sessionId": session_id,
                "connectionId": subscriber.server_id,
                "receivingFrom": publisher.server_id,
                "status": status,
                "timestamp": now_ms(),
            },
        )
    except Exception as exc:
        log.warning(
            "subscription of %s to %s not reported: %s",
            subscriber.connection_id,
            publisher.connection_id,
            exc,
        )


def posts_ice_events(ctx: RunContext) -> bool:
    """The client stands in for the server's ICE events (``ServerRecord.client_reports``)."""
    return ServerReport.ICE_EVENTS.value in ctx.ledger.server.client_reports


ENDPOINTS = "client_endpoints"
"""The feature key of the run's :class:`EndpointBook`."""


@dataclass
class Endpoint:
    """An endpoint whose events the client posts: its name, whose it is (``owner``: the
    participant's connection id; ``feed``: for a subscription, its publisher's), the log of
    the peer connection carrying it, and how many of that log's events it posted."""

    name: str
    session_id: str
    server_id: str
    owner: str
    feed: str | None
    log: IceLog
    posted: int = 0


@dataclass
class EndpointBook:
    """The endpoints up and not yet ended, and, for every log still alive, how far each
    endpoint it carried that ended had posted (a re-subscription goes on from there). Written
    on the player's loop only."""

    open: dict[str, Endpoint] = field(default_factory=dict)
    ended: weakref.WeakKeyDictionary[IceLog, dict[str, int]] = field(
        default_factory=weakref.WeakKeyDictionary
    )


def endpoint_book(ctx: RunContext) -> EndpointBook:
    """The run's book, made on first use (a timeline run, a load process, a capacity search)."""
    book = ctx.features.get(ENDPOINTS)
    if not isinstance(book, EndpointBook):
        book = EndpointBook()
        ctx.features[ENDPOINTS] = book
    return book


async def endpoint_up(
    ctx: RunContext,
    session_id: str,
    participant: Participant,
    endpoint: str,
    pc: RTCPeerConnection | None,
    *,
    feed: str | None = None,
) -> None:
    """``endpoint`` is up on ``pc``: post what ``pc`` went through so far as its events, and
    follow it until it ends. ``feed``: a subscription's publisher (its connection id)."""
    log_ = ice_log(pc) if pc is not None else None
    if not posts_ice_events(ctx) or log_ is None:
        return
    book = endpoint_book(ctx)
    entry = book.open.get(endpoint)
    if entry is None or entry.log is not log_:  # else: up again, still followed
        entry = Endpoint(
            endpoint,
            session_id,
            participant.server_id,
            participant.connection_id,
            feed,
            log_,
            posted=book.ended.get(log_, {}).get(endpoint, 0),
        )
        book.open[endpoint] = entry
    await _send(ctx, _claim([entry]), endpoint)


async def post_new_events(ctx: RunContext, participant: Participant) -> None:
    """Post what ``participant``'s endpoints went through since their last post."""
    if not posts_ice_events(ctx):
        return  # the server reports them (Janus)
    owner = participant.connection_id
    mine = [e for e in endpoint_book(ctx).open.values() if e.owner == owner]
    await _send(ctx, _claim(mine), f"the endpoints of {owner}")


async def publication_ended(ctx: RunContext, participant: Participant) -> None:
    """After ``participant`` unpublished (its connection closed, unless the server keeps it)."""
    owner = participant.connection_id
    await _end(ctx, lambda e: e.owner == owner and e.feed is None, f"{owner}'s publication")


async def subscription_ended(ctx: RunContext, participant: Participant, feed: str) -> None:
    """After ``participant`` stopped receiving ``feed``."""
    owner = participant.connection_id
    await _end(ctx, lambda e: e.owner == owner and e.feed == feed, f"{owner}'s view of {feed}")


async def feed_ended(ctx: RunContext, feed: str) -> None:
    """``feed``'s publisher ended it (unpublished, left, or the server noticed it dropped):
    every subscription to it ends, on connections that stay up."""
    await _end(ctx, lambda e: e.feed == feed, f"the subscriptions to {feed}")


async def participant_gone(ctx: RunContext, participant: Participant) -> None:
    """After ``participant``'s peer connections closed (left, dropped, kicked, removed)."""
    owner = participant.connection_id
    await _end(ctx, lambda e: e.owner == owner, f"the endpoints of {owner}")


async def _end(ctx: RunContext, ended: Callable[[Endpoint], bool], what: str) -> None:
    """Post what the endpoints ``ended`` selects went through since their last post, and stop
    following them."""
    if not posts_ice_events(ctx):
        return
    book = endpoint_book(ctx)
    closing = [e for e in book.open.values() if ended(e)]
    for entry in closing:
        del book.open[entry.name]
    body = _claim(closing)
    for entry in closing:
        book.ended.setdefault(entry.log, {})[entry.name] = entry.posted
    await _send(ctx, body, what)


def _claim(endpoints: Iterable[Endpoint]) -> list[dict[str, Any]]:
    """The events of ``endpoints`` not posted yet, as ``/client-events`` items, counted as
    posted: with no await in between, two posts at once (a stats round and an end) never
    take the same event."""
    body: list[dict[str, Any]] = []
    for entry in endpoints:
        new = entry.log.since(entry.posted)
        entry.posted += len(new)
        body += [
            {
                "sessionId": entry.session_id,
                "connectionId": entry.server_id,
                "endpoint": entry.name,
                "type": event.type,
                "timestamp": event.timestamp_ms,
                "msSinceEndpointCreation": event.ms_since_creation,
                **event.fields,
            }
            for event in new
        ]
    return body


async def _send(ctx: RunContext, body: list[dict[str, Any]], what: str) -> None:
    if not body:
        return
    try:
        await ctx.collector.post("/client-events", body)
    except Exception as exc:
        log.warning("%d endpoint events of %s not reported: %s", len(body), what, exc)
