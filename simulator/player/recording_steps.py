"""Recording steps (``start_recording``, ``stop_recording``) and the recording feature's hooks.

The feature keeps a ``RecordingManager`` in ``ctx.features["recording"]``. Janus writes the
``.mjr`` files under ``results/<run-id>/recordings-mjr/<recording-id>/``; the playable files go
to ``results/<run-id>/recordings/<recording-id>/``. A room that closes while recording stops it
with the room's reason (``lastParticipantLeft``, ``sessionClosedByServer``); at the run's end
anything still recording stops and the run waits for every recording to be ready or failed.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from simulator.driver.capabilities import Capability
from simulator.player.context import RunContext
from simulator.player.registry import Repertoire
from simulator.recording.manager import RecordingManager
from simulator.recording.options import RecordingError, RecordingOptions
from simulator.scenario.model import StartRecordingStep, StopRecordingStep

FEATURE = "recording"
OUTPUT_FOLDER = "recordings"
RAW_FOLDER = "recordings-mjr"
STOPPED_BY_STEP = "recordingStoppedByServer"  # a stop asked through OpenVidu's REST API
CLOSED_AT_RUN_END = "sessionClosedByServer"  # the runner destroys every room at the end


class ServerRoomRecorder:
    """``RoomRecorder`` over the run's media server, on the client namespace's loop."""

    def __init__(self, ctx: RunContext) -> None:
        self._ctx = ctx

    async def start(self, session_id: str, rec_dir: Path) -> None:
        ctx = self._ctx
        await ctx.on_media(ctx.server.start_recording(session_id, rec_dir))

    async def stop(self, session_id: str) -> None:
        ctx = self._ctx
        await ctx.on_media(ctx.server.stop_recording(session_id))


def add_recording(repertoire: Repertoire) -> None:
    """The recording steps, and the feature that keeps the run's recordings."""
    repertoire.steps.add(StartRecordingStep, start_recording, needs=[Capability.RECORDING])
    repertoire.steps.add(StopRecordingStep, stop_recording, needs=[Capability.RECORDING])
    repertoire.features.add(install)


def recordings(ctx: RunContext) -> RecordingManager:
    manager = ctx.features[FEATURE]
    assert isinstance(manager, RecordingManager)
    return manager


def stream_ids(ctx: RunContext) -> dict[str, str]:
    """connectionId -> its latest streamId, to name INDIVIDUAL files as OpenVidu does."""
    return {
        conn.connection_id: pub.stream_id
        for person in ctx.ledger.participants.values()
        for conn in person.connections
        for pub in conn.publications
    }


def install(ctx: RunContext) -> None:
    results = ctx.results_dir or Path(tempfile.mkdtemp(prefix=f"rtcsim-{ctx.run_id}-"))
    ctx.features[FEATURE] = RecordingManager(
        recorder=ServerRoomRecorder(ctx),
        post=ctx.collector.post,
        records=ctx.ledger.recordings,
        out_root=results / OUTPUT_FOLDER,
        raw_root=results / RAW_FOLDER,
    )
    ctx.room_closed_hooks.append(room_closed)
    ctx.run_end_hooks.append(run_end)


async def start_recording(ctx: RunContext, step: StartRecordingStep, who: str) -> None:
    options = RecordingOptions.from_step(step)
    await recordings(ctx).start(step.room, ctx.session_ids[step.room], options)


async def stop_recording(ctx: RunContext, step: StopRecordingStep, who: str) -> None:
    manager = recordings(ctx)
    active = manager.active(step.room)
    if active is None or active.name != step.name:
        running = f"{active.name!r} is" if active is not None else "nothing is"
        raise RecordingError(f"no recording {step.name!r} in room {step.room}: {running} recording")
    await manager.stop(step.room, STOPPED_BY_STEP, stream_ids(ctx))


async def room_closed(ctx: RunContext, room: str, reason: str) -> None:
    manager = recordings(ctx)
    if manager.active(room) is not None:
        await manager.stop(room, reason, stream_ids(ctx))


async def run_end(ctx: RunContext) -> None:
    manager = recordings(ctx)
    await manager.stop_all(CLOSED_AT_RUN_END, stream_ids(ctx))
    await manager.finished()
