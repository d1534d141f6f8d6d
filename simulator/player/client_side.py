"""What the client says for a media server whose own events do not (LiveKit): subscriptions.

LiveKit sends no webhook when a participant subscribes or unsubscribes
(``livekit-findings.md`` §2), so the collector learns of a subscription only from the simulator
(``POST /subscriptions``; its documents are marked ``rtcsim_side: client``). Only what the
client itself causes is posted: a subscription begun, and one it ended (``unsubscribe``); ends
the server causes (the publisher unpublished or left, the subscriber left) come from the
server's events, which the collector cascades. On Janus nothing is posted: its events have it.
"""

from __future__ import annotations

import logging
from typing import Literal

from simulator.driver.capabilities import ServerReport
from simulator.ledger import now_ms
from simulator.participant import Participant
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
