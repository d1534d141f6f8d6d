"""One visit of a load user, phase by phase: join, publish or subscribe, dwell, leave.

Each phase is a scenario step run by the same executors as a scenario run (so the ledger and
the collector see a load visit exactly as they see a scripted one), timed under its locust name.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from simulator.driver.protocol import RoomOptions
from simulator.ledger import SubscriptionRecord
from simulator.load.allocator import Seat
from simulator.load.session import LoadSession
from simulator.load.timings import Timings
from simulator.peers.cheap import Media
from simulator.peers.clips import default_clips_dir
from simulator.peers.peer_state import SubscriptionState
from simulator.peers.publishing import PublishOptions, prepare_clips
from simulator.scenario.model import (
    JoinStep,
    LeaveStep,
    PublishStep,
    StartRecordingStep,
    SubscribeStep,
    VideoSpec,
)

FIRST_FRAME_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class VisitPlan:
    dwell_s: float = 10.0
    media: Media = "cheap"
    audio: bool = True
    video: bool = True
    width: int = 640
    height: int = 480
    fps: int = 30
    simulcast: bool = False
    """Publishers send three layers by rid, as a browser (``peers.simulcast``)."""
    substream: int | None = None
    """The simulcast layer viewers ask for (0 lowest .. 2 highest; None: Janus's, the highest)."""
    substreams: tuple[int, ...] = ()
    """Or layers the viewers of a room take in turn, by seat (a conference's big and small
    tiles); overrides ``substream``."""
    temporal: int | None = None
    record_rooms: int = 0
    """Record (INDIVIDUAL) the first N rooms each process opens, from their first publication
    until the room closes: a load run then has recordings and ``recordingSummary`` documents."""


def visit(
    session: LoadSession,
    seat: Seat,
    plan: VisitPlan,
    timings: Timings,
    name: str,
    *,
    sleep: Callable[[float], None],
) -> None:
    """One participant's stay. A failed phase is reported to locust and ends the visit; the
    ledger keeps what happened (a join that failed stays in it as an attempt). Every visit
    that joined reports one ``leave``, however it ends: after its dwell, after a later phase
    failed, or when locust stops the user mid-visit (``GreenletExit`` at a wait), so locust's
    stats count as many leaves as successful joins."""
    session.call(session.arrive(name, seat.room))
    joined = leave_reported = False
    try:
        with timings.timed("join"), _kept_as_attempt(session, name, seat.room):
            session.call(session.enter_room(seat, RoomOptions()))
            session.call(
                session.step(JoinStep.model_construct(at=0.0, who=[name], do="join"), name)
            )
        joined = True
        if seat.publishes:
            with timings.timed("ice_connected"):
                session.call(session.step(_publish_step(plan, name), name))
            if seat.opens_room and seat.number <= plan.record_rooms:
                session.call(session.step(_record_step(seat.room), name))
        else:
            with timings.timed("ice_connected"):
                publishers = session.call(session.room_publishers(name), 30)
                subscribe = SubscribeStep.model_construct(
                    at=0.0,
                    who=[name],
                    do="subscribe",
                    to=publishers,
                    media=plan.media,
                    substream=_substream_of(plan, seat),
                    temporal=plan.temporal,
                )
                session.call(session.step(subscribe, name))
            if plan.video:  # first_frame is the first *video* frame
                participant = session.ctx.participants[name]
                records = session.ctx.ledger.participants[name].current.subscriptions
                for feed, state in list(participant.subscriptions.items()):
                    record = next(r for r in records if r.receiving_from == feed)
                    _report_first_frame(state, record, timings, sleep)
        sleep(plan.dwell_s)
        leave_reported = True
        with timings.timed("leave"):
            session.call(
                session.step(LeaveStep.model_construct(at=0.0, who=[name], do="leave"), name)
            )
    finally:
        if joined and not leave_reported:  # cut short: the leave that follows is this one's
            with timings.timed("leave"):
                session.call(session.leave(name), 30)
        else:
            session.call(session.leave(name), 30)  # let go of whatever is left


@contextmanager
def _kept_as_attempt(session: LoadSession, name: str, room: str) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        session.call(session.join_failed(name, room, exc), 10)
        raise


def _substream_of(plan: VisitPlan, seat: Seat) -> int | None:
    if plan.substreams:
        return plan.substreams[seat.index % len(plan.substreams)]
    return plan.substream


def _publish_step(plan: VisitPlan, name: str) -> PublishStep:
    video = VideoSpec(width=plan.width, height=plan.height, fps=plan.fps) if plan.video else None
    return PublishStep.model_construct(
        at=0.0,
        who=[name],
        do="publish",
        audio=plan.audio,
        video=video,
        media=plan.media,
        simulcast=plan.simulcast and plan.video,
        talk=None,
    )


def _record_step(room: str) -> StartRecordingStep:
    return StartRecordingStep.model_construct(
        at=0.0, do="start_recording", room=room, name=f"rec-{room}", output_mode="INDIVIDUAL"
    )


def warm_clips(session: LoadSession, plan: VisitPlan) -> None:
    """Make (first time) and load the cheap publishers' clips before any timing starts."""
    options = PublishOptions(
        audio=plan.audio,
        video=plan.video,
        width=plan.width,
        height=plan.height,
        fps=plan.fps,
        media=plan.media,
        simulcast=plan.simulcast,
    )
    session.call(asyncio.to_thread(prepare_clips, options, default_clips_dir()), 180)


def _report_first_frame(
    state: SubscriptionState,
    record: SubscriptionRecord,
    timings: Timings,
    sleep: Callable[[float], None],
) -> None:
    """Report the subscription's first video frame, measured from its start on the media loop
    (the counter lives there; a float read across threads is atomic). A subscription whose
    publisher left before a frame came (churn) owes none: nothing is reported for it."""
    deadline = time.monotonic() + FIRST_FRAME_TIMEOUT_S
    while state.first_frame_s is None:
        if record.ended_ms is not None:  # written by the control loop
            return
        if time.monotonic() > deadline:
            elapsed = time.monotonic() - state.started_at
            error = TimeoutError(f"no video frame within {FIRST_FRAME_TIMEOUT_S:.0f} s")
            timings.report("first_frame", elapsed, error)
            raise error
        sleep(0.02)
    timings.report("first_frame", state.first_frame_s)
