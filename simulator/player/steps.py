"""Step executors: one function per kind of step, typed for its step class and registered by
``add_core_steps`` (``simulator.player.registry``).

Each executor acts for one participant (or, for ``destroy_room``, one room) and records what it
did in the ledger. Steps planned for the same time run concurrently; the runner times and
catches them. What the executors record is the simulator's ground truth: the end reasons here
are what the simulator *caused*, which the collector has to find out on its own from Janus.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from simulator.driver.capabilities import Capability
from simulator.identity import connection_id, stream_id
from simulator.ledger import (
    ConnectionRecord,
    MediaCounters,
    PublicationRecord,
    SubscriptionRecord,
    now_ms,
)
from simulator.participant import Participant
from simulator.peers.publishing import PublishOptions, TalkOptions
from simulator.player import client_side, client_stats, drops, media_records
from simulator.player.context import RunContext
from simulator.player.registry import StepRegistry
from simulator.scenario.model import (
    DestroyRoomStep,
    DropStep,
    ImpairStep,
    JoinStep,
    KickStep,
    LeaveStep,
    Media,
    MuteStep,
    PublishStep,
    RejoinStep,
    SetLayerStep,
    SignalStep,
    SubscribeStep,
    UnpublishStep,
    UnsubscribeStep,
    VideoSpec,
)

FEED_WAIT_S = 10.0


def add_core_steps(steps: StepRegistry) -> None:
    """Every kind of step but the recording ones (``recording_steps``)."""
    steps.add(JoinStep, join)
    steps.add(RejoinStep, rejoin)
    steps.add(LeaveStep, leave)
    steps.add(DropStep, drop)
    steps.add(KickStep, kick, needs=[Capability.KICK])
    steps.add(DestroyRoomStep, destroy_room, needs=[Capability.DESTROY_ROOM])
    steps.add(PublishStep, publish, needs=_publish_needs)
    steps.add(UnpublishStep, unpublish, needs=[Capability.PUBLISH])
    steps.add(SubscribeStep, subscribe, needs=_subscribe_needs)
    steps.add(SetLayerStep, set_layer, needs=[Capability.LAYER_CHOICE])
    steps.add(UnsubscribeStep, unsubscribe, needs=[Capability.SUBSCRIBE])
    steps.add(MuteStep, mute, needs=[Capability.MUTE])
    steps.add(SignalStep, signal)  # a signal goes through the collector, not the server
    steps.add(ImpairStep, impair)  # impairment is the client side's


def _publish_needs(step: PublishStep) -> set[Capability]:
    return {Capability.PUBLISH, Capability.SIMULCAST} if step.simulcast else {Capability.PUBLISH}


def _subscribe_needs(step: SubscribeStep) -> set[Capability]:
    layered = step.substream is not None or step.temporal is not None
    return {Capability.SUBSCRIBE, Capability.LAYER_CHOICE} if layered else {Capability.SUBSCRIBE}


# -- joining and leaving ---------------------------------------------------------------------
async def join(ctx: RunContext, step: JoinStep, who: str) -> None:
    await _join(ctx, who)


async def _join(ctx: RunContext, who: str) -> None:
    record = ctx.ledger.participants[who]
    if ctx.participants.get(who) is not None:
        raise RuntimeError(f"{who} is already in the room")
    session_id = ctx.session_ids[record.room]
    identity = ctx.identities[who]
    serial = len(record.connections)
    connection = connection_id(ctx.run_id, who if serial == 0 else f"{who}#{serial}")
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
            "ip": ctx.client_address,
        },
    )
    conn = ConnectionRecord(connection_id=connection, session_id=session_id)
    record.connections.append(conn)
    participant = Participant(ctx.server.participant(connection, who), connection, who)
    ctx.participants[who] = participant
    conn.join_asked_ms = now_ms()
    try:
        await ctx.on_media(participant.join(session_id))
    except BaseException:
        del ctx.participants[who]
        raise
    conn.joined_ms = now_ms()
    if participant.server_id != connection:
        conn.server_id = participant.server_id  # the documents' name for it (LiveKit's SID)


async def rejoin(ctx: RunContext, step: RejoinStep, who: str) -> None:
    record = ctx.ledger.participants[who]
    previous = record.current.publications[-1:] if record.connections else []
    if who in ctx.participants:
        await end_connection(ctx, who, "disconnect", how="leave")
    await _join(ctx, who)
    if step.publish and previous:
        last = previous[0]
        video = (
            VideoSpec(width=last.width or 640, height=last.height or 480, fps=last.fps or 30)
            if last.video
            else None
        )
        await _publish(ctx, who, audio=last.audio, video=video, simulcast=last.simulcast)


async def leave(ctx: RunContext, step: LeaveStep, who: str) -> None:
    await end_connection(ctx, who, "disconnect", how="leave")


async def drop(ctx: RunContext, step: DropStep, who: str) -> None:
    participant = ctx.participant(who)
    feed = participant.connection_id
    publishing = participant.publisher is not None
    record = ctx.ledger.participants[who]
    watching = [s for s in record.current.subscriptions if s.ended_ms is None]
    await end_connection(ctx, who, "networkDisconnect", how="vanish", server_notices=True)

    # What the server ends because of the drop, it ends when it notices (``player.drops``).
    async def cascade() -> None:
        await _cascade_feed_end(ctx, feed, "networkDisconnect")

    drops.watch(ctx, who, record.room, record.current, cascade if publishing else None, watching)


async def kick(ctx: RunContext, step: KickStep, who: str) -> None:
    participant = ctx.participant(who)
    room = ctx.ledger.participants[who].current.session_id
    await ctx.on_media(ctx.server.kick(room, participant.connection_id))
    await end_connection(ctx, who, "forceDisconnectByServer", how="forget")


async def destroy_room(ctx: RunContext, step: DestroyRoomStep, who: str) -> None:
    session_id = ctx.session_ids[step.room]
    await ctx.on_media(ctx.server.destroy_room(session_id))
    session = ctx.ledger.sessions[step.room]
    session.closed_ms = now_ms()
    session.destroyed_by_server = True
    drops.overtaken(ctx, step.room, session.closed_ms, "sessionClosedByServer")
    await ctx.room_closed(step.room, "sessionClosedByServer")
    for name in ctx.occupants(session_id):
        await end_connection(ctx, name, "sessionClosedByServer", how="forget")


async def end_connection(
    ctx: RunContext, who: str, reason: str, *, how: str, server_notices: bool = False
) -> None:
    """Close the books on ``who``'s connection and act: leave, vanish or forget.

    The subscriptions (its own, and unless the server notices later, those to its feed) are
    booked first, as the media that came. A leave then says goodbye and books the publication
    after it: the server ends the publication while handling the goodbye, so what was sent is
    counted up to it (after it a server may send viewers media of its own, LiveKit's blank
    frames, which no publisher sent). Every end a goodbye causes is dated between the goodbye
    and the last answer (``_ended_between``). A vanish or a forget books everything first (no
    request of ours ends anything). The client's record of its endpoints' ICE, where it stands
    in for the server's (``player.client_side``), is posted last, once its peers are closed:
    their closing states with it.

    ``server_notices``: the end is one the server learns of later (a drop): its subscribers'
    streams and the room's session are booked when it does (``player.drops``), not now."""
    participant = ctx.participant(who)
    conn = ctx.ledger.participants[who].current
    await client_stats.report(ctx, who)
    with contextlib.suppress(Exception):  # stats are best effort once the server hung up
        await ctx.on_media(participant.refresh_counters())
    closed: list[PublicationRecord | SubscriptionRecord] = []
    for feed in list(participant.subscriptions):
        closed += _close_subscription_records(conn, participant, feed, reason)
    if not server_notices:
        closed += await _cascade_feed_end(ctx, participant.connection_id, reason)
    try:
        if how == "leave":
            try:
                await ctx.on_media(participant.goodbye())
                conn.leave_asked_ms = participant.leave_asked_wall_ms
            finally:
                closed += _close_publication_record(conn, participant, reason)
                _let_go(ctx, who)
            await ctx.on_media(participant.hang_up())
            _ended_between(closed, participant.leave_asked_wall_ms, now_ms(), _goodbyes(ctx))
        else:
            closed += _close_publication_record(conn, participant, reason)
            _let_go(ctx, who)
            await ctx.on_media(participant.vanish() if how == "vanish" else participant.forget())
    except BaseException:  # its peers failed to close: what they logged still goes
        await client_side.participant_gone(ctx, participant)
        raise
    conn.leave_asked_ms = participant.leave_asked_wall_ms
    conn.left_ms = participant.left_wall_ms or now_ms()
    conn.end = reason
    await client_side.participant_gone(ctx, participant)  # after its left_ms: a post takes time

    session = ctx.ledger.sessions[ctx.ledger.participants[who].room]
    if (
        not server_notices
        and not ctx.occupants(conn.session_id)
        and not drops.in_server_view(ctx, session.room)
        and not session.destroyed_by_server
    ):
        session.closed_ms, session.close_asked_ms = conn.left_ms, conn.leave_asked_ms
        await ctx.room_closed(session.room, "lastParticipantLeft")


def _let_go(ctx: RunContext, who: str) -> None:
    """The last of ``who``'s books (its candidates, when it talked): no longer a participant."""
    participant = ctx.participants.pop(who)
    conn = ctx.ledger.participants[who].current
    conn.sdp_candidates = participant.candidate_addresses()
    media_records.talking(conn, participant)


# -- media --------------------------------------------------------------------------------
async def publish(ctx: RunContext, step: PublishStep, who: str) -> None:
    talk = (
        media_records.talk_options(ctx.scenario.seed, who, step.talk)
        if step.talk is not None
        else None
    )
    await _publish(
        ctx,
        who,
        audio=step.audio,
        video=step.video,
        media=step.media,
        simulcast=step.simulcast,
        talk=talk,
    )


async def _publish(
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
        closed = _close_subscription_records(conn, participant, source.connection_id, "unsubscribe")
        await ctx.on_media(participant.unsubscribe(source.connection_id))
        _ended_between(closed, None, now_ms())
        await client_side.subscription_ended(ctx, participant, source.connection_id)
        await client_side.report_subscription(ctx, conn.session_id, participant, source, "ended")


async def unpublish(ctx: RunContext, step: UnpublishStep, who: str) -> None:
    participant = ctx.participant(who)
    await client_stats.report(ctx, who)
    await ctx.on_media(participant.refresh_counters())
    closed: list[PublicationRecord | SubscriptionRecord] = []
    closed += _close_publication_record(
        ctx.ledger.participants[who].current, participant, "unpublish"
    )
    closed += await _cascade_feed_end(ctx, participant.connection_id, "unpublish")
    await ctx.on_media(participant.unpublish())
    _ended_between(closed, None, now_ms())
    await client_side.publication_ended(ctx, participant)


async def mute(ctx: RunContext, step: MuteStep, who: str) -> None:
    await ctx.on_media(ctx.participant(who).mute(step.kind, step.do == "mute"))


async def signal(ctx: RunContext, step: SignalStep, who: str) -> None:
    sender = ctx.participant(who)
    conn = ctx.ledger.participants[who].current
    recipients = [
        ctx.participants[name].connection_id
        for name in ctx.scenario.resolve(step.to)
        if name in ctx.participants
        and name != who
        and ctx.ledger.participants[name].current.session_id == conn.session_id
    ]
    await ctx.collector.post(
        "/signals",
        {
            "sessionId": conn.session_id,
            "from": sender.connection_id,
            "to": recipients,
            "type": step.type,
            "data": step.data,
        },
    )
    conn.signals_sent += 1


async def impair(ctx: RunContext, step: ImpairStep, who: str) -> None:
    ctx.impairments[who] = step
    conn = ctx.ledger.participants[who].current
    conn.impairments.append(
        {
            "at_ms": now_ms(),
            "loss_pct": step.loss_pct,
            "delay_ms": step.delay_ms,
            "jitter_ms": step.jitter_ms,
            "rate_kbps": step.rate_kbps,
            "direction": step.direction.value,
            "depth": step.depth,
        }
    )
    await ctx.apply_impairment(who)


# -- helpers ----------------------------------------------------------------------------------
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


def _goodbyes(ctx: RunContext) -> dict[str, int]:
    """When each connection said goodbye, of those that have (``ConnectionRecord``)."""
    return {
        c.connection_id: c.leave_asked_ms
        for p in ctx.ledger.participants.values()
        for c in p.connections
        if c.leave_asked_ms is not None
    }


def _ended_between(
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


def _close_subscription_records(
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


async def _cascade_feed_end(ctx: RunContext, feed: str, reason: str) -> list[SubscriptionRecord]:
    """A publisher's end ends every subscription to it, with the publisher's reason (as
    OpenVidu reports it). The subscribers' peers are left for Janus to hang up; what they
    received is read first (their counters are otherwise only read when they end)."""
    closed: list[SubscriptionRecord] = []
    for name, other in list(ctx.participants.items()):
        if feed in other.subscriptions:
            with contextlib.suppress(Exception):  # best effort, as at a connection's end
                await ctx.on_media(other.refresh_subscription(feed))
            conn = ctx.ledger.participants[name].current
            closed += _close_subscription_records(conn, other, feed, reason)
    await client_side.feed_ended(ctx, feed)
    return closed + drops.feed_ended(ctx, feed, reason, now_ms())


def _close_publication_record(
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
