"""What the client says for a media server whose own events do not (LiveKit): subscriptions
and endpoint (ICE) events.

LiveKit sends no webhook when a participant subscribes or unsubscribes
(``livekit-findings.md`` §2), so the collector learns of a subscription only from the simulator
(``POST /subscriptions``; its documents are marked ``rtcsim_side: client``). Only what the
client itself causes is posted: a subscription begun, and one it ended (``unsubscribe``); ends
the server causes (the publisher unpublished or left, the subscriber left) come from the
server's events, which the collector cascades. On Janus nothing is posted: its events have it.

Nor does LiveKit report ICE: each endpoint's ``kms`` documents are then what the client's own
peer connection went through (``peers.ice_log``), posted once the endpoint is up
(``POST /client-events``). An endpoint is named as the server-side ones are: a publication's
streamId, ``<subscriber>_<streamId>`` for a subscription. LiveKit carries every subscription of
a participant on one subscriber connection, made at the join: each subscription's endpoint has
that connection's history, dated when it happened (``msSinceEndpointCreation`` counts from the
connection's creation).
"""

from __future__ import annotations

import logging
from typing import Literal

from aiortc import RTCPeerConnection

from simulator.driver.capabilities import ServerReport
from simulator.ledger import now_ms
from simulator.participant import Participant
from simulator.peers.ice_log import ice_log
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


async def report_endpoint_events(
    ctx: RunContext,
    session_id: str,
    participant: Participant,
    endpoint: str,
    pc: RTCPeerConnection | None,
) -> None:
    """Post what ``pc`` went through so far as ``endpoint``'s events; a failure is logged,
    never fatal (the kms presence check then fails)."""
    log_ = ice_log(pc) if pc is not None else None
    if not posts_ice_events(ctx) or log_ is None or not log_.events:
        return
    body = [
        {
            "sessionId": session_id,
            "connectionId": participant.server_id,
            "endpoint": endpoint,
            "type": event.type,
            "timestamp": event.timestamp_ms,
            "msSinceEndpointCreation": event.ms_since_creation,
            **event.fields,
        }
        for event in list(log_.events)
    ]
    try:
        await ctx.collector.post("/client-events", body)
    except Exception as exc:
        log.warning("endpoint events of %s not reported: %s", endpoint, exc)
