"""One visit of a load user, phase by phase: join, publish or subscribe, dwell, leave.

Each phase runs on the media host's loop and is timed under its locust name.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from simulator.identity import connection_id, stream_id
from simulator.load.allocator import Seat
from simulator.load.host import MediaHost
from simulator.load.timings import Timings
from simulator.peers import cheap
from simulator.peers.cheap import Media
from simulator.peers.participant import Participant, PublishOptions, SubscriptionState

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


def visit(
    host: MediaHost,
    seat: Seat,
    plan: VisitPlan,
    timings: Timings,
    name: str,
    *,
    sleep: Callable[[float], None],
) -> None:
    connection = connection_id("load", name)
    participant = Participant(host.http, host.janus_url, connection, name)
    joined = False
    try:
        with timings.timed("join"):
            host.ensure_room(seat.room)
            host.call(participant.join(seat.room))
            joined = True
        if seat.publishes:
            options = PublishOptions(
                audio=plan.audio,
                video=plan.video,
                width=plan.width,
                height=plan.height,
                fps=plan.fps,
                media=plan.media,
            )
            with timings.timed("ice_connected"):
                host.call(participant.publish(stream_id(connection, "CAMERA", 0), options))
        else:
            for feed in host.publishers(seat.room, exclude=connection):
                with timings.timed("ice_connected"):
                    host.call(participant.subscribe(feed, media=plan.media))
                if plan.video:  # first_frame is the first *video* frame
                    _report_first_frame(participant.subscriptions[feed], timings, sleep)
        sleep(plan.dwell_s)
        with timings.timed("leave"):
            host.call(participant.leave())
            joined = False
    finally:
        if joined:  # a phase failed (or the user was stopped): let go of everything quietly
            host.call(participant.close_quietly(destroy_session=True), 15)


def warm_clips(host: MediaHost, plan: VisitPlan) -> None:
    """Make (first time) and load the cheap publishers' clips before any timing starts."""
    if plan.media != "cheap":
        return
    clips = cheap.default_clips_dir()
    if plan.audio:
        host.call(asyncio.to_thread(cheap.audio_clip, clips), 120)
    if plan.video:
        host.call(
            asyncio.to_thread(cheap.video_clip, clips, plan.width, plan.height, plan.fps), 120
        )


def _report_first_frame(
    state: SubscriptionState, timings: Timings, sleep: Callable[[float], None]
) -> None:
    """Report the subscription's first video frame, measured from its start on the media loop
    (the counter lives there; a float read across threads is atomic)."""
    deadline = time.monotonic() + FIRST_FRAME_TIMEOUT_S
    while state.first_frame_s is None:
        if time.monotonic() > deadline:
            elapsed = time.monotonic() - state.started_at
            error = TimeoutError(f"no video frame within {FIRST_FRAME_TIMEOUT_S:.0f} s")
            timings.report("first_frame", elapsed, error)
            raise error
        sleep(0.02)
    timings.report("first_frame", state.first_frame_s)
