"""Client-side WebRTC stats: what each synthetic browser measured, sent to the collector.

The collector stores them as ``webrtcStats`` with ``rtcsim_side: "client"`` beside the server's
own, so a dashboard can put both views of one endpoint side by side. Samples go out every
``interval_s`` and once more just before an endpoint closes, so short runs have them too.
Each round also posts the ICE events the participant's endpoints went through since the last
(``player.client_side``: on a server that reports none).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from simulator.ledger import now_ms
from simulator.player import client_side
from simulator.player.context import RunContext

log = logging.getLogger(__name__)


async def report(ctx: RunContext, who: str) -> None:
    """Send ``who``'s current samples and its endpoints' new ICE events; a failure is logged,
    never fatal to the run."""
    participant = ctx.participants.get(who)
    if participant is None:
        return
    await client_side.post_new_events(ctx, participant)
    try:
        samples = await ctx.on_media(participant.client_stats())
        if not samples:
            return
        conn = ctx.ledger.participants[who].current
        stamp = now_ms()
        payload = [
            {
                **sample,
                "connectionId": participant.connection_id,
                "sessionId": conn.session_id,
                "timestamp": stamp,
            }
            for sample in samples
        ]
        await ctx.collector.post("/client-stats", payload)
    except Exception as exc:
        log.warning("client stats of %s not reported: %s", who, exc)


async def report_periodically(ctx: RunContext, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        for who in list(ctx.participants):
            await report(ctx, who)


def start(ctx: RunContext, interval_s: float) -> asyncio.Task[None]:
    return asyncio.create_task(report_periodically(ctx, interval_s), name="client-stats")


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
