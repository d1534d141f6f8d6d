"""Step executors: one function per kind of step, typed for its step class and registered by
``add_core_steps`` (``simulator.player.registry``). Joining and leaving are here, media steps
in ``media_steps``, the closing of the books on what ended in ``books``.

Each executor acts for one participant (or, for ``destroy_room``, one room) and records what it
did in the ledger. Steps planned for the same time run concurrently; the runner times and
catches them. What the executors record is the simulator's ground truth: the end reasons here
are what the simulator *caused*, which the collector has to find out on its own from Janus.
"""

from __future__ import annotations

import contextlib

from simulator.driver.capabilities import Capability
from simulator.identity import connection_id
from simulator.ledger import ConnectionRecord, PublicationRecord, SubscriptionRecord, now_ms
from simulator.participant import Participant
from simulator.player import client_side, client_stats, drops, media_records
from simulator.player.books import (
    cascade_feed_end,
    close_publications,
    close_subscriptions,
    ended_between,
    goodbyes,
)
from simulator.player.context import RunContext
from simulator.player.media_steps import (
    mute,
    publish,
    publish_as,
    set_layer,
    subscribe,
    unpublish,
    unsubscribe,
)
from simulator.player.registry import StepRegistry
from simulator.scenario.model import (
    DestroyRoomStep,
    DropStep,
    ImpairStep,
    JoinStep,
    KickStep,
    LeaveStep,
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
        await publish_as(ctx, who, audio=last.audio, video=video, simulcast=last.simulcast)


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
        await cascade_feed_end(ctx, feed, "networkDisconnect")

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
    and the last answer (``ended_between``). A vanish or a forget books everything first (no
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
        closed += close_subscriptions(conn, participant, feed, reason)
    if not server_notices:
        closed += await cascade_feed_end(ctx, participant.connection_id, reason)
    try:
        if how == "leave":
            try:
                await ctx.on_media(participant.goodbye())
                conn.leave_asked_ms = participant.leave_asked_wall_ms
            finally:
                closed += close_publications(conn, participant, reason)
                _let_go(ctx, who)
            await ctx.on_media(participant.hang_up())
            ended_between(closed, participant.leave_asked_wall_ms, now_ms(), goodbyes(ctx))
        else:
            closed += close_publications(conn, participant, reason)
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


# -- what passes through the collector or the client side ------------------------------------
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
