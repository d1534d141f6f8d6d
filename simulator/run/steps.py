"""Step executors, looked up by the step's ``do``: one function per kind of step.

Each executor acts for one participant and records what it did in the ledger. Steps with the
same time run concurrently; the runner times and catches them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from simulator.driver.videoroom import list_participants
from simulator.identity import connection_id, stream_id
from simulator.peers.participant import Participant, PublishOptions
from simulator.peers.rtc import candidate_addresses
from simulator.run.context import RunContext
from simulator.run.ledger import (
    MediaCounters,
    ParticipantRecord,
    PublicationRecord,
    SubscriptionRecord,
    now_ms,
)
from simulator.scenario.model import (
    JoinStep,
    LeaveStep,
    PublishStep,
    StepBase,
    SubscribeStep,
    UnpublishStep,
    UnsubscribeStep,
)

Executor = Callable[[RunContext, StepBase, str], Awaitable[None]]
EXECUTORS: dict[str, Executor] = {}

FEED_WAIT_S = 10.0


def executor(kind: str) -> Callable[[Executor], Executor]:
    def register(fn: Executor) -> Executor:
        EXECUTORS[kind] = fn
        return fn

    return register


def executor_for(kind: str) -> Executor:
    try:
        return EXECUTORS[kind]
    except KeyError:
        raise KeyError(
            f"no executor for step {kind!r}; known: {', '.join(sorted(EXECUTORS))}"
        ) from None


@executor("join")
async def join(ctx: RunContext, step: StepBase, who: str) -> None:
    assert isinstance(step, JoinStep)
    room = ctx.scenario.room_of(who)
    session_id = ctx.session_ids[room]
    identity = ctx.identities[who]
    connection = connection_id(ctx.run_id, who)
    record = ParticipantRecord(
        name=who,
        connection_id=connection,
        user_id=identity.user_id,
        session_id=session_id,
        location=identity.location,
        platform=identity.platform,
    )
    ctx.ledger.participants[who] = record
    await ctx.collector.post(
        "/identities",
        {
            "connectionId": connection,
            "sessionId": session_id,
            "runId": ctx.run_id,
            "user": identity.user_id,
            "location": identity.location,
            "geoPoints": identity.geo_points,
            "platform": identity.platform,
            "clientData": identity.client_data,
            "serverData": "",
            "ip": "",
        },
    )
    participant = Participant(ctx.media_http, ctx.janus_url, connection, who)
    ctx.participants[who] = participant
    await ctx.on_media(participant.join(session_id))
    record.joined_ms = now_ms()


@executor("publish")
async def publish(ctx: RunContext, step: StepBase, who: str) -> None:
    assert isinstance(step, PublishStep)
    participant = ctx.participant(who)
    record = ctx.ledger.participants[who]
    video = step.video
    serial = ctx.stream_serials.get(who, 0)
    ctx.stream_serials[who] = serial + 1
    stream = stream_id(participant.connection_id, video.source if video else "CAMERA", serial)
    options = PublishOptions(
        audio=step.audio,
        video=video is not None,
        width=video.width if video else 0,
        height=video.height if video else 0,
        fps=video.fps if video else 0,
    )
    await ctx.collector.post(
        "/streams",
        {
            "streamId": stream,
            "connectionId": participant.connection_id,
            "sessionId": record.session_id,
            "videoSource": video.source if video else None,
            "videoFramerate": video.fps if video else None,
            "videoDimensions": (
                f'{{"width":{video.width},"height":{video.height}}}' if video else None
            ),
            "audioEnabled": step.audio,
            "videoEnabled": video is not None,
        },
    )
    publication = PublicationRecord(
        stream_id=stream,
        audio=step.audio,
        video=video is not None,
        width=video.width if video else None,
        height=video.height if video else None,
        fps=video.fps if video else None,
        started_ms=now_ms(),
    )
    record.publications.append(publication)
    await ctx.on_media(participant.publish(stream, options))
    publication.ice_connected_ms = now_ms()
    state = participant.publisher
    if state is not None:
        record.sdp_candidates += candidate_addresses(state.local_sdp)
        record.sdp_candidates += candidate_addresses(state.remote_sdp)


@executor("subscribe")
async def subscribe(ctx: RunContext, step: StepBase, who: str) -> None:
    assert isinstance(step, SubscribeStep)
    participant = ctx.participant(who)
    record = ctx.ledger.participants[who]
    for publisher in step.to:
        source = ctx.participant(publisher)
        publication = _live_publication(ctx, publisher)
        await ctx.on_media(_wait_for_feed(ctx, record.session_id, source.connection_id))
        subscription = SubscriptionRecord(
            publisher=publisher,
            receiving_from=source.connection_id,
            stream_id=publication.stream_id,
            started_ms=now_ms(),
        )
        record.subscriptions.append(subscription)
        await ctx.on_media(participant.subscribe(source.connection_id))
        subscription.ice_connected_ms = now_ms()
        state = participant.subscriptions[source.connection_id]
        record.sdp_candidates += candidate_addresses(state.local_sdp)
        record.sdp_candidates += candidate_addresses(state.remote_sdp)


@executor("unsubscribe")
async def unsubscribe(ctx: RunContext, step: StepBase, who: str) -> None:
    assert isinstance(step, UnsubscribeStep)
    participant = ctx.participant(who)
    for publisher in step.to:
        feed = ctx.participant(publisher).connection_id
        await ctx.on_media(participant.refresh_counters())
        _close_subscription_records(ctx, who, participant, feed, "unsubscribe")
        await ctx.on_media(participant.unsubscribe(feed))


@executor("unpublish")
async def unpublish(ctx: RunContext, step: StepBase, who: str) -> None:
    assert isinstance(step, UnpublishStep)
    participant = ctx.participant(who)
    await ctx.on_media(participant.refresh_counters())
    _close_publication_record(ctx, who, participant, "unpublish")
    await ctx.on_media(participant.unpublish())


@executor("leave")
async def leave(ctx: RunContext, step: StepBase, who: str) -> None:
    assert isinstance(step, LeaveStep)
    await leave_cleanly(ctx, who)


async def leave_cleanly(ctx: RunContext, who: str, why: str = "disconnect") -> None:
    participant = ctx.participant(who)
    await ctx.on_media(participant.refresh_counters())
    for feed in list(participant.subscriptions):
        _close_subscription_records(ctx, who, participant, feed, why)
    _close_publication_record(ctx, who, participant, why)
    await ctx.on_media(participant.leave())
    record = ctx.ledger.participants[who]
    record.left_ms = now_ms()
    record.end = why
    del ctx.participants[who]


def _live_publication(ctx: RunContext, publisher: str) -> PublicationRecord:
    record = ctx.ledger.participants.get(publisher)
    live = [p for p in record.publications if p.ended_ms is None] if record else []
    if not live:
        raise RuntimeError(f"{publisher} publishes nothing to subscribe to")
    return live[-1]


async def _wait_for_feed(ctx: RunContext, room: str, feed: str) -> None:
    """Janus lists a publisher only after its webrtcup; subscribing earlier finds no feed."""
    async with asyncio.timeout(FEED_WAIT_S):
        while True:
            participants = await list_participants(ctx.admin_handle, room)
            if any(p.get("id") == feed and p.get("publisher") for p in participants):
                return
            await asyncio.sleep(0.1)


def _close_subscription_records(
    ctx: RunContext, who: str, participant: Participant, feed: str, why: str
) -> None:
    state = participant.subscriptions.get(feed)
    for subscription in ctx.ledger.participants[who].subscriptions:
        if subscription.receiving_from == feed and subscription.ended_ms is None:
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


def _close_publication_record(
    ctx: RunContext, who: str, participant: Participant, why: str
) -> None:
    for publication in ctx.ledger.participants[who].publications:
        if publication.ended_ms is None:
            publication.ended_ms = now_ms()
            publication.end = why
            publication.sent = {
                kind: MediaCounters(c.frames, c.packets, c.bytes)
                for kind, c in participant.sent.items()
            }
