"""Step executors for media: publish, subscribe, set_layer, unsubscribe, unpublish, mute.

Each records in the ledger what it started before asking the server (so a failure is booked
as what it was) and what the server's answers and the client's own endpoints say after.
"""

from __future__ import annotations

import asyncio

from simulator.identity import stream_id
from simulator.ledger import PublicationRecord, SubscriptionRecord, now_ms
from simulator.peers.publishing import PublishOptions, TalkOptions
from simulator.player import client_side, client_stats, media_records
from simulator.player.books import (
    cascade_feed_end,
    close_publications,
    close_subscriptions,
    ended_between,
)
from simulator.player.context import RunContext
from simulator.scenario.model import (
    Media,
    MuteStep,
    PublishStep,
    SetLayerStep,
    SubscribeStep,
    UnpublishStep,
    UnsubscribeStep,
    VideoSpec,
)

FEED_WAIT_S = 10.0


async def publish(ctx: RunContext, step: PublishStep, who: str) -> None:
    talk = (
        media_records.talk_options(ctx.scenario.seed, who, step.talk)
        if step.talk is not None
        else None
    )
    await publish_as(
        ctx,
        who,
        audio=step.audio,
        video=step.video,
        media=step.media,
        simulcast=step.simulcast,
        talk=talk,
    )


async def publish_as(
    ctx: RunContext,
    who: str,
    *,
    audio: bool,
    video: VideoSpec | None,
    media: Media = "live",
    simulcast: bool = False,
    talk: TalkOptions | None = None,
) -> None:
    participant = ctx.participant(who)
    conn = ctx.ledger.participants[who].current
    serial = ctx.stream_serials.get(who, 0)
    ctx.stream_serials[who] = serial + 1
    stream = stream_id(participant.connection_id, video.source if video else "CAMERA", serial)
    options = PublishOptions(
        audio=audio,
        video=video is not None,
        width=video.width if video else 0,
        height=video.height if video else 0,
        fps=video.fps if video else 0,
        media=media,
        simulcast=simulcast and video is not None,
        talk=talk,
    )
    await ctx.collector.post(
        "/streams",
        {
            "streamId": stream,
            "connectionId": participant.connection_id,
            "sessionId": conn.session_id,
            "videoSource": video.source if video else None,
            "videoFramerate": video.fps if video else None,
            "videoDimensions": (
                f'{{"width":{video.width},"height":{video.height}}}' if video else None
            ),
            "audioEnabled": audio,
            "videoEnabled": video is not None,
        },
    )
    publication = PublicationRecord(
        stream_id=stream,
        audio=audio,
        video=video is not None,
        width=video.width if video else None,
        height=video.height if video else None,
        fps=video.fps if video else None,
        started_ms=now_ms(),
        simulcast=simulcast and video is not None,
    )
    conn.publications.append(publication)
    await ctx.on_media(participant.publish(stream, options))
    publication.ice_connected_ms = now_ms()
    conn.sdp_candidates = participant.candidate_addresses()
    state = participant.publisher
    publication.negotiated_ms = state.negotiated_wall_ms if state is not None else None
    pc = state.pc if state is not None else None
    await client_side.endpoint_up(ctx, conn.session_id, participant, stream, pc)
    await ctx.apply_impairment(who)


async def subscribe(ctx: RunContext, step: SubscribeStep, who: str) -> None:
    participant = ctx.participant(who)
    conn = ctx.ledger.participants[who].current
    for publisher in _publishers_among(ctx, who, step.to):
        source = ctx.participant(publisher)
        if source.connection_id in participant.subscriptions:
            continue
        publication = _live_publication(ctx, publisher)
        await ctx.on_media(_wait_for_feed(ctx, conn.session_id, source.connection_id))
        subscription = SubscriptionRecord(
            publisher=publisher,
            receiving_from=source.connection_id,
            stream_id=publication.stream_id,
            started_ms=now_ms(),
        )
        conn.subscriptions.append(subscription)
        await ctx.on_media(
            participant.subscribe(
                source.connection_id,
                publication.stream_id,
                step.media,
                substream=step.substream,
                temporal=step.temporal,
            )
        )
        subscription.ice_connected_ms = now_ms()
        held = participant.subscriptions.get(source.connection_id)
        subscription.negotiated_ms = held.negotiated_wall_ms if held is not None else None
        conn.sdp_candidates = participant.candidate_addresses()
        await client_side.report_subscription(ctx, conn.session_id, participant, source, "started")
        endpoint = f"{participant.server_id}_{publication.stream_id}"
        pc = held.pc if held is not None else None
        await client_side.endpoint_up(
            ctx, conn.session_id, participant, endpoint, pc, feed=source.connection_id
        )
    await ctx.apply_impairment(who)


async def set_layer(ctx: RunContext, step: SetLayerStep, who: str) -> None:
    """A sample of the client's stats first, so its documents show the layer it leaves (on
    LiveKit they are the only documents that name a viewer's layer)."""
    participant = ctx.participant(who)
    # A sample first: the collector learns the layer being left (``rtcsim_substream`` and
    # since when) before the switch, so the subscriber's documents show both; the one after
    # comes with the next sample (at the interval, or before the subscription closes).
    await client_stats.report(ctx, who)
    for publisher in ctx.scenario.resolve(step.to):
        source = ctx.participants.get(publisher)
        if source is None or source.connection_id not in participant.subscriptions:
            continue
        await ctx.on_media(
            participant.set_layer(source.connection_id, step.substream, step.temporal)
        )


async def unsubscribe(ctx: RunContext, step: UnsubscribeStep, who: str) -> None:
    participant = ctx.participant(who)
    conn = ctx.ledger.participants[who].current
    for publisher in ctx.scenario.resolve(step.to):
        source = ctx.participants.get(publisher)
        if source is None or source.connection_id not in participant.subscriptions:
            continue
        await client_stats.report(ctx, who)
        await ctx.on_media(participant.refresh_counters())
        closed = close_subscriptions(conn, participant, source.connection_id, "unsubscribe")
        await ctx.on_media(participant.unsubscribe(source.connection_id))
        ended_between(closed, None, now_ms())
        await client_side.subscription_ended(ctx, participant, source.connection_id)
        await client_side.report_subscription(ctx, conn.session_id, participant, source, "ended")


async def unpublish(ctx: RunContext, step: UnpublishStep, who: str) -> None:
    participant = ctx.participant(who)
    await client_stats.report(ctx, who)
    await ctx.on_media(participant.refresh_counters())
    closed: list[PublicationRecord | SubscriptionRecord] = []
    closed += close_publications(ctx.ledger.participants[who].current, participant, "unpublish")
    closed += await cascade_feed_end(ctx, participant.connection_id, "unpublish")
    await ctx.on_media(participant.unpublish())
    ended_between(closed, None, now_ms())
    await client_side.publication_ended(ctx, participant)


async def mute(ctx: RunContext, step: MuteStep, who: str) -> None:
    await ctx.on_media(ctx.participant(who).mute(step.kind, step.do == "mute"))


def _publishers_among(ctx: RunContext, who: str, names: list[str]) -> list[str]:
    room = ctx.ledger.participants[who].current.session_id
    return [
        name
        for name in ctx.scenario.resolve(names)
        if name != who
        and name in ctx.participants
        and ctx.participants[name].publisher is not None
        and ctx.ledger.participants[name].current.session_id == room
    ]


def _live_publication(ctx: RunContext, publisher: str) -> PublicationRecord:
    conn = ctx.ledger.participants[publisher].current
    live = [p for p in conn.publications if p.ended_ms is None]
    if not live:
        raise RuntimeError(f"{publisher} publishes nothing to subscribe to")
    return live[-1]


async def _wait_for_feed(ctx: RunContext, room: str, feed: str) -> None:
    """A server offers a publisher's feed only once its media is up (Janus: after its
    webrtcup); subscribing earlier finds no feed."""
    async with asyncio.timeout(FEED_WAIT_S):
        while True:
            if feed in await ctx.server.publishers(room):
                return
            await asyncio.sleep(0.1)
