"""Plays a scenario's timeline against the media server and keeps the ledger.

The runner lives on the root namespace's event loop (it talks to the collector), and hands
every peer and driver call to the client namespace's loop. Steps planned for the same second
run concurrently; a late step starts late rather than being skipped, and the ledger records
when it really ran.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from itertools import groupby
from pathlib import Path
from typing import Protocol

from simulator.collector_client import CollectorClient, CollectorUnavailable
from simulator.driver.capabilities import ServerReport
from simulator.driver.protocol import Driver, RoomOptions
from simulator.identity import make_identity
from simulator.impairment.kernel import KernelImpairer
from simulator.ledger import (
    Ledger,
    ParticipantRecord,
    ServerRecord,
    SessionRecord,
    StepRecord,
    now_ms,
)
from simulator.netns_loop import NamespaceLoop
from simulator.peers.clips import default_clips_dir
from simulator.peers.publishing import PublishOptions, prepare_clips
from simulator.player import client_side, client_stats, drops
from simulator.player.context import RunContext
from simulator.player.health import MEDIA_SERVER_LOST, JanusWatcher, MediaServerLost
from simulator.player.host_sample import take_host_sample
from simulator.player.impairment_hook import KERNEL, apply_impairment
from simulator.player.registry import Repertoire
from simulator.player.standard import standard_repertoire
from simulator.player.steps import end_connection
from simulator.scenario.model import (
    DestroyRoomStep,
    ParticipantStep,
    PublishStep,
    Scenario,
    StartRecordingStep,
    StepBase,
    StopRecordingStep,
)

log = logging.getLogger(__name__)

STEP_TIMEOUT_S = 45.0
HEALTH_PROBE_TIMEOUT_S = 2.0
Progress = Callable[[str], None]


class RunObserver(Protocol):
    """Watches the peers while the timeline plays (the terminal's live view, ``rtcsim.cli``):
    started once the rooms exist, stopped before everyone leaves."""

    def start(self, ctx: RunContext) -> None: ...

    async def stop(self) -> None: ...


def session_id_for(room: str, run_id: str) -> str:
    """A session id unique per run, so documents of one run never mix with another's."""
    return f"{room}-{run_id}"


async def play(
    scenario: Scenario,
    *,
    run_id: str,
    media: NamespaceLoop,
    collector: CollectorClient,
    driver: Driver,
    client_address: str = "",
    kernel_impairer: KernelImpairer | None = None,
    progress: Progress = lambda _msg: None,
    results_dir: Path | None = None,
    client_stats_interval_s: float = 30.0,
    live: RunObserver | None = None,
    watcher: JanusWatcher | None = None,
    drop_detection_s: float | None = None,
    repertoire: Repertoire | None = None,
) -> Ledger:
    """Play the timeline with ``repertoire`` (the standard one unless given) and return the
    ledger of what was done. ``drop_detection_s``: instead of the driver's
    ``timings.drop_noticed_within_s``."""
    repertoire = repertoire or standard_repertoire()
    ledger = Ledger(
        run_id=run_id,
        scenario=scenario.name,
        seed=scenario.seed,
        started_ms=now_ms(),
        server=server_record(driver, drop_detection_s),
    )

    await take_host_sample(collector, ledger, "start")
    server = await media.run(driver.connect())
    ctx = RunContext(
        scenario=scenario,
        run_id=run_id,
        ledger=ledger,
        media=media,
        collector=collector,
        server=server,
        identities={name: make_identity(scenario.seed, name) for name in scenario.everyone},
        client_address=client_address,
        impairment_hook=apply_impairment,
        results_dir=results_dir,
        drop_detection_s=ledger.server.drop_noticed_within_s,
        drop_noticed_after_s=driver.timings.drop_noticed_after_s,
    )
    if kernel_impairer is not None:
        ctx.features[KERNEL] = kernel_impairer
    repertoire.features.install(ctx)
    for name, identity in ctx.identities.items():
        ledger.participants[name] = ParticipantRecord(
            name=name,
            user_id=identity.user_id,
            room=scenario.room_of(name),
            location=identity.location,
            platform=identity.platform,
        )
    try:
        await _prepare_clips(scenario, progress)
        await _create_rooms(ctx, progress)
        reporter = client_stats.start(ctx, client_stats_interval_s)
        if live is not None:
            live.start(ctx)
        try:
            lost = await _play_watched(ctx, repertoire, progress, watcher or _server_watcher(ctx))
        finally:
            if live is not None:
                await live.stop()
            await client_stats.stop(reporter)
        if lost is not None:
            await _media_server_lost(ctx, lost, progress)
        else:
            await _leave_everyone(ctx, progress)
            await _await_drops(ctx, progress)
            await _destroy_rooms(ctx)
        for hook in ctx.run_end_hooks:
            await hook(ctx)
    finally:
        await _release(ctx)
        await take_host_sample(collector, ledger, "end")
        ledger.ended_ms = now_ms()
    return ledger


def server_record(driver: Driver, drop_detection_s: float | None = None) -> ServerRecord:
    """The ledger's account of the media server: its name, what its events report, and what
    the client posts in their stead. The one place that decides it, for timeline runs and every
    load process alike (``load.session``): a server without ICE events has each endpoint's
    from the client (``player.client_side``), and the checks then expect them."""
    return ServerRecord(
        name=driver.name,
        reports=sorted(str(r) for r in driver.reports),
        drop_noticed_within_s=(
            drop_detection_s
            if drop_detection_s is not None
            else driver.timings.drop_noticed_within_s
        ),
        client_reports=(
            [] if ServerReport.ICE_EVENTS in driver.reports else [ServerReport.ICE_EVENTS.value]
        ),
    )


async def _prepare_clips(scenario: Scenario, progress: Progress) -> None:
    """Cheap publishers loop clips made on first use; make them before the clock starts, or
    the first publish step would run seconds late and push the timeline with it."""
    wanted = {
        PublishOptions(
            audio=step.audio,
            video=step.video is not None,
            width=step.video.width if step.video else 0,
            height=step.video.height if step.video else 0,
            fps=step.video.fps if step.video else 0,
            media=step.media,
            simulcast=step.simulcast,
        )
        for step in scenario.timeline
        if isinstance(step, PublishStep) and step.media == "cheap"
    }
    clips_dir = default_clips_dir()
    for options in wanted:
        await asyncio.to_thread(prepare_clips, options, clips_dir)
    if wanted:
        progress(f"{len(wanted)} kind(s) of cheap media ready")


async def _create_rooms(ctx: RunContext, progress: Progress) -> None:
    for room in ctx.scenario.rooms:
        options = RoomOptions(
            publishers=room.max_publishers,
            bitrate_bps=room.bitrate_bps,
            audiolevel_event=room.audio_level_event,
            audio_active_packets=room.audio_active_packets,
            audio_level_average=room.audio_level_average,
        )
        session_id = await open_room(ctx, room.name, options)
        progress(f"room {room.name} created as session {session_id}")


async def open_room(ctx: RunContext, room: str, options: RoomOptions) -> str:
    """Announce the room's session to the collector, create it on the server, enter it in the
    ledger; the session id is returned. Load users open their rooms with it too."""
    session_id = session_id_for(room, ctx.run_id)
    ctx.session_ids[room] = session_id
    await ctx.collector.post(
        "/sessions",
        {
            "sessionId": session_id,
            "runId": ctx.run_id,
            "customSessionId": session_id,
            "mediaMode": "ROUTED",
            "recordingMode": "MANUAL",
        },
    )
    asked_ms = now_ms()
    await ctx.on_media(ctx.server.create_room(session_id, options))
    ctx.ledger.sessions[room] = SessionRecord(
        room, session_id, created_ms=now_ms(), create_asked_ms=asked_ms
    )
    return session_id


def _server_watcher(ctx: RunContext) -> JanusWatcher:
    async def probe() -> None:
        await ctx.on_media(ctx.server.probe(HEALTH_PROBE_TIMEOUT_S))

    return JanusWatcher(probe, ctx.server.url)


async def _play_watched(
    ctx: RunContext, repertoire: Repertoire, progress: Progress, watcher: JanusWatcher
) -> MediaServerLost | None:
    """Play the timeline while the watcher probes the server; a lost server stops the timeline."""
    timeline = asyncio.create_task(_play_timeline(ctx, repertoire, progress), name="timeline")
    watch = asyncio.create_task(watcher.watch(now_ms()), name="janus-watch")
    try:
        await asyncio.wait({timeline, watch}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (timeline, watch):
            if not task.done():
                task.cancel()
        await asyncio.gather(timeline, watch, return_exceptions=True)
    failure = None if timeline.cancelled() else timeline.exception()
    if failure is not None:
        raise failure
    if watch.done() and not watch.cancelled() and watch.exception() is None:
        return watch.result()
    return None


async def _media_server_lost(ctx: RunContext, lost: MediaServerLost, progress: Progress) -> None:
    """Close the ledger's books with ``mediaServerDisconnect`` and tell the collector."""
    progress(f"MEDIA SERVER LOST: {lost.message}; the timeline stops here")
    await drops.cancel(ctx)
    ctx.ledger.media_server_lost = lost.message
    ctx.ledger.media_server_lost_ms = lost.at_ms
    for room, record in ctx.ledger.sessions.items():
        if record.closed_ms is None:
            record.end = MEDIA_SERVER_LOST
            record.destroyed_by_server = True  # no lastParticipantLeft when the last one goes
            try:
                await ctx.room_closed(room, MEDIA_SERVER_LOST)
            except Exception as exc:
                log.error("room %s: closing hooks failed without the media server: %s", room, exc)
    for who in list(ctx.participants):
        try:
            await end_connection(ctx, who, MEDIA_SERVER_LOST, how="vanish")
        except Exception as exc:
            log.error("%s could not be closed after the media server was lost: %s", who, exc)
    _stamp_ends(ctx.ledger, lost.at_ms)
    try:
        await ctx.collector.post("/media-server-lost", {"timestamp": lost.at_ms})
    except CollectorUnavailable as exc:
        log.error("the collector was not told the media server is lost: %s", exc)


def _stamp_ends(ledger: Ledger, at_ms: int) -> None:
    """Everything the lost server ended, ended when it stopped answering (not when we noticed)."""
    for session in ledger.sessions.values():
        if session.end == MEDIA_SERVER_LOST:
            session.closed_ms = at_ms
    for participant in ledger.participants.values():
        for conn in participant.connections:
            if conn.end == MEDIA_SERVER_LOST:
                conn.left_ms = at_ms
            for publication in conn.publications:
                if publication.end == MEDIA_SERVER_LOST:
                    publication.ended_ms = at_ms
            for subscription in conn.subscriptions:
                if subscription.end == MEDIA_SERVER_LOST:
                    subscription.ended_ms = at_ms


async def _play_timeline(ctx: RunContext, repertoire: Repertoire, progress: Progress) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    ordered = sorted(enumerate(ctx.scenario.timeline), key=lambda pair: pair[1].at)
    for at, group in groupby(ordered, key=lambda pair: pair[1].at):
        await asyncio.sleep(max(0.0, start + at - loop.time()))
        batch = [(index, step, who) for index, step in group for who in _targets(ctx, step)]
        progress(f"t={at:5.1f}s " + ", ".join(f"{who} {step.do}" for _i, step, who in batch))
        await asyncio.gather(
            *(_run_step(ctx, repertoire, index, step, who) for index, step, who in batch)
        )


def _targets(ctx: RunContext, step: StepBase) -> list[str]:
    if isinstance(step, DestroyRoomStep | StartRecordingStep | StopRecordingStep):
        return [step.room]
    if isinstance(step, ParticipantStep):
        return ctx.scenario.resolve(step.who)
    raise TypeError(f"step kind {type(step).__name__} has no targets")


async def _run_step(
    ctx: RunContext, repertoire: Repertoire, index: int, step: StepBase, who: str
) -> None:
    do = str(getattr(step, "do", "?"))
    record = StepRecord(
        index=index, do=do, who=who, label=step.label, planned_at_s=step.at, started_ms=now_ms()
    )
    ctx.ledger.steps.append(record)
    try:
        async with asyncio.timeout(STEP_TIMEOUT_S):
            await repertoire.steps.run(ctx, step, who)
        record.ok = True
    except Exception as exc:  # a failed step is a result to report, not a crash
        record.error = f"{type(exc).__name__}: {exc}"
        log.error("step %d (%s by %s) failed: %s", index, do, who, record.error, exc_info=True)
    finally:
        record.ended_ms = now_ms()


async def _leave_everyone(ctx: RunContext, progress: Progress) -> None:
    """Participants the timeline left in the room leave cleanly at its end."""
    remaining = list(ctx.participants)
    if remaining:
        progress("end of timeline: " + ", ".join(remaining) + " leave")
    for who in remaining:
        try:
            await end_connection(ctx, who, "disconnect", how="leave")
        except Exception as exc:
            log.error("%s could not leave cleanly: %s", who, exc)


async def _await_drops(ctx: RunContext, progress: Progress) -> None:
    """Rooms are destroyed only once the server let go of the participants the run dropped
    (``player.drops``): destroying them earlier would end those as ``sessionClosedByServer``."""
    waiting = sorted(p.who for p in ctx.pending_drops.values())
    if waiting:
        progress(
            f"end of timeline: waiting up to {ctx.drop_detection_s:.0f} s after their drop "
            f"for {ctx.ledger.server.name} to notice {', '.join(waiting)} left"
        )
    await drops.settle(ctx)


async def _destroy_rooms(ctx: RunContext) -> None:
    for room, session_id in ctx.session_ids.items():
        if ctx.ledger.sessions[room].destroyed_by_server:
            continue
        try:
            await ctx.on_media(ctx.server.destroy_room(session_id))
        except Exception as exc:
            log.warning("room %s could not be destroyed: %s", room, exc)
        ctx.ledger.sessions[room].closed_ms = ctx.ledger.sessions[room].closed_ms or now_ms()


async def _release(ctx: RunContext) -> None:
    await drops.cancel(ctx)
    for participant in list(ctx.participants.values()):
        await ctx.on_media(participant.close_quietly())
        await client_side.participant_gone(ctx, participant)
    ctx.participants.clear()
    try:
        await ctx.on_media(ctx.server.close())
    except Exception as exc:
        log.warning("the media server's admin connection did not close cleanly: %s", exc)
