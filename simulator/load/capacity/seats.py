"""One seat of a capacity step taking its place: arrive, join, publish or subscribe, wait for
the first frames; then it stays until the search ends (``LoadSession.finish`` lets everyone go).

Each phase is a scenario step run by the same executors as any run, so the ledger and the
collector see a capacity search as they see a load run. Runs on the session's control loop.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field

from simulator.driver.protocol import RoomOptions
from simulator.load.allocator import Seat
from simulator.load.capacity.plan import CapacitySeat
from simulator.load.capacity.window import Newcomer
from simulator.load.session import LoadSession
from simulator.scenario.capacity import CapacityRoom
from simulator.scenario.model import (
    Direction,
    ImpairStep,
    JoinStep,
    PublishStep,
    SubscribeStep,
)

FIRST_FRAME_TIMEOUT_S = 10.0
"""As a load visit's (``simulator.load.visit``): a subscription without a video frame by then
has failed to show anything."""
FIRST_FRAME_POLL_S = 0.05
LEAVE_CONCURRENCY = 16
LEAVE_TIMEOUT_S = 30.0


@dataclass
class SeatRun:
    """A seat on its way in: what it did (``newcomer``) and whether it is done arriving."""

    seat: CapacitySeat
    newcomer: Newcomer = field(default_factory=Newcomer)
    published: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once a publishing seat's publication is up or has failed (its room's
    subscribers wait for it)."""
    publishing: bool = False
    done: bool = False


async def take_seat(
    session: LoadSession, run: SeatRun, room: CapacityRoom, publishers: list[SeatRun]
) -> None:
    """The seat's whole arrival; a failure is kept in ``run.newcomer.error``, never raised."""
    seat = run.seat
    try:
        await _arrive(session, run, room, publishers)
    except Exception as exc:
        run.newcomer.error = f"{seat.name}: {type(exc).__name__}: {exc}"[:300]
    finally:
        run.published.set()
        run.done = True


async def _arrive(
    session: LoadSession, run: SeatRun, room: CapacityRoom, publishers: list[SeatRun]
) -> None:
    seat, name, ctx = run.seat, run.seat.name, session.ctx
    await session.arrive(name, seat.room)
    try:
        await session.enter_room(Seat(seat.room, seat.index, seat.publishes), RoomOptions())
        await session.step(JoinStep.model_construct(at=0.0, who=[name], do="join"), name)
    except Exception as exc:
        await session.join_failed(name, seat.room, exc)
        raise
    run.newcomer.joined = True
    impairment = room.subscriber_impairment
    if impairment is not None and not seat.publishes:
        impair = ImpairStep.model_construct(
            at=0.0,
            who=[name],
            do="impair",
            loss_pct=impairment.loss_pct,
            delay_ms=impairment.delay_ms,
            jitter_ms=impairment.jitter_ms,
            rate_kbps=None,
            direction=Direction.DOWN,
            depth="process",
        )
        await session.step(impair, name)
    if seat.publishes:
        try:
            await session.step(_publish_step(room, name), name)
            run.publishing = True
        finally:
            publication = ctx.ledger.participants[name].current.publications[-1:]
            run.newcomer.ice_ms += [_ice_ms(p.started_ms, p.ice_connected_ms) for p in publication]
            run.published.set()
    if not seat.subscribes:
        return
    for other in publishers:
        if other is not run:
            await other.published.wait()
    feeds = [p.seat.name for p in publishers if p is not run and p.publishing]
    if not feeds:
        raise RuntimeError("no publisher of the room made it")
    subscribe = SubscribeStep.model_construct(
        at=0.0,
        who=[name],
        do="subscribe",
        to=feeds,
        media=room.media,
        substream=None,
        temporal=None,
    )
    try:
        await session.step(subscribe, name)
    finally:
        records = ctx.ledger.participants[name].current.subscriptions
        run.newcomer.ice_ms += [_ice_ms(s.started_ms, s.ice_connected_ms) for s in records]
        missing = len(feeds) - len(records)
        run.newcomer.ice_ms += [math.inf] * max(0, missing)
    await _first_frames(session, run, len(feeds))


async def _first_frames(session: LoadSession, run: SeatRun, expected: int) -> None:
    """Each subscription's first video frame, from its start (as the load visit's
    ``first_frame``); one that does not come within the timeout counts as never."""
    participant = session.ctx.participants[run.seat.name]
    deadline = time.monotonic() + FIRST_FRAME_TIMEOUT_S
    states = list(participant.subscriptions.values())
    # Polled: the frame counters live on the media loop, which sets no event of ours.
    while any(s.first_frame_s is None for s in states) and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(FIRST_FRAME_POLL_S)
    frames = [s.first_frame_s * 1000 for s in states if s.first_frame_s is not None]
    never = expected - len(frames)
    run.newcomer.first_frame_ms += frames + [math.inf] * never
    if never:
        raise TimeoutError(
            f"{never} subscription(s) without a video frame in {FIRST_FRAME_TIMEOUT_S:g} s"
        )


def _ice_ms(started_ms: int, connected_ms: int | None) -> float:
    return math.inf if connected_ms is None else float(connected_ms - started_ms)


def _publish_step(room: CapacityRoom, name: str) -> PublishStep:
    return PublishStep.model_construct(
        at=0.0,
        who=[name],
        do="publish",
        audio=room.audio,
        video=room.video,
        media=room.media,
        simulcast=False,
        talk=None,
    )


async def leave_everyone(session: LoadSession) -> list[str]:
    """Every seat leaves, ``LEAVE_CONCURRENCY`` at a time: one by one, a hundred goodbyes to
    a server the last step overloaded take longer than the session's own end allows. Returns
    who could not leave cleanly (the session's end then closes them as it can)."""
    gate = asyncio.Semaphore(LEAVE_CONCURRENCY)
    failed: list[str] = []

    async def leave(who: str) -> None:
        async with gate:
            try:
                async with asyncio.timeout(LEAVE_TIMEOUT_S):
                    await session.leave(who)
            except Exception as exc:
                failed.append(f"{who}: {type(exc).__name__}: {exc}"[:200])

    await asyncio.gather(*(leave(who) for who in list(session.ctx.participants)))
    return failed
