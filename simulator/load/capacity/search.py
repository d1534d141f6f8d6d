"""The search itself: step after step, each filled, settled, measured and judged, on the load
session's control loop (``CapacitySearch.run``).

The server's samples come from the caller (``server_samples``: the run's ``monitoringStats``
between two instants, read back from the store), so the search never talks to Elasticsearch
itself and a test can hand it samples of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable

from simulator.ledger import now_ms
from simulator.load.capacity import plan
from simulator.load.capacity.result import CapacityResult, StepResult
from simulator.load.capacity.seats import SeatRun, take_seat
from simulator.load.capacity.verdict import judge, shown, step_verdict
from simulator.load.capacity.window import (
    SubscriptionSnapshot,
    generator_health,
    newcomer_figures,
    server_use,
    window_figures,
)
from simulator.load.session import LoadSession
from simulator.peers.latency import LatencyMeter
from simulator.peers.reception import reception
from simulator.player import client_stats
from simulator.scenario.capacity import CapacityScenario
from simulator.verify.store_reader import Document

log = logging.getLogger(__name__)

ServerSamples = Callable[[int, int], Awaitable[list[Document]]]
Throttling = Callable[[], tuple[int, int]]
"""With a CPU budget on the server: its cgroup's CFS periods and throttled periods so far."""
Progress = Callable[[str], None]
MAX_FAILURES_KEPT = 5
SERVER_SAMPLE_SLACK_S = 3.0


class CapacitySearch:
    def __init__(
        self,
        session: LoadSession,
        scenario: CapacityScenario,
        *,
        server_samples: ServerSamples,
        monitoring_interval_s: float,
        progress: Progress,
        throttling: Throttling | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.session = session
        self.scenario = scenario
        self.spec = scenario.capacity
        self._server_samples = server_samples
        self._interval_s = monitoring_interval_s
        self._progress = progress
        self._throttling = throttling
        self._sleep = sleep
        self._tasks: list[asyncio.Task[None]] = []

    async def run(self) -> CapacityResult:
        """Every step until one breaks (or the last): the search's result."""
        room = self.spec.room
        result = CapacityResult(
            scenario=self.scenario.name,
            users_per_room=room.users,
            publishers_per_room=room.publishers,
            media=room.media,
        )
        try:
            for number in range(1, self.spec.max_steps + 1):
                step = await self._step(number)
                result.steps.append(step)
                self._progress(step_line(step))
                if step.verdict != "good":
                    result.ending = step.verdict
                    break
            else:
                result.ending = "max_steps"
        finally:
            for task in self._tasks:
                task.cancel()
            for task in self._tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        result.load_average = [round(x, 2) for x in os.getloadavg()]
        return result

    # -- one step -------------------------------------------------------------------------------
    async def _step(self, number: int) -> StepResult:
        spec = self.spec
        seats = plan.step_seats(spec, number)
        step = StepResult(
            step=number,
            rooms=spec.rooms_at(number),
            users=spec.rooms_at(number) * spec.room.users,
            streams=0,
            started_ms=now_ms(),
            newcomers=len(seats),
        )
        self._progress(
            f"step {number}: {len(seats)} users arrive, {step.rooms} rooms in all "
            f"({step.users} users)"
        )
        runs = [SeatRun(seat) for seat in seats]
        steady = await self._fill(runs)
        step.failures = [r.newcomer.error for r in runs if r.newcomer.error][:MAX_FAILURES_KEPT]
        newcomers = newcomer_figures([r.newcomer for r in runs])
        if steady:
            step.steady_ms = now_ms()
        health_from = step.started_ms
        while True:
            figures: dict[str, float | None] = dict(newcomers)
            end_ms = now_ms()
            if steady:
                figures |= await self._measure_window(step)
                end_ms = step.window_ms[1]
            step.figures = figures
            step.slo = judge(self.scenario.slo, figures)
            step.generator = generator_health(list(self.session.watch.samples), health_from, end_ms)
            step.verdict, step.why = step_verdict(
                step.generator, steady, step.slo, spec.settle_timeout_s
            )
            if step.verdict != "generator" or step.remeasured >= spec.retries:
                return step
            # A shared machine's burst of other work saturates the generator for a while:
            # the same rooms are measured again before the step is given up as invalid.
            step.remeasured += 1
            self._progress(
                f"step {number}: {step.why}; measuring the window again "
                f"({step.remeasured} of {spec.retries})"
            )
            health_from = now_ms()

    async def _measure_window(self, step: StepResult) -> dict[str, float | None]:
        """Warm-up, then the window: every stream's figures and the server's use."""
        await self._sleep(self.spec.warmup_s)
        step.streams = self._streams()
        before, meters = await self._snapshot()
        start = now_ms()
        throttled_from = self._throttling() if self._throttling else None
        await self._report_client_stats()
        await self._sleep(self.spec.hold_s)
        after, latencies = await self._snapshot_after(before, meters)
        if self._throttling is not None and throttled_from is not None:
            step.server_throttled_pct = throttled_pct(throttled_from, self._throttling())
        end_ms = now_ms()
        await self._report_client_stats()
        step.window_ms = [start, end_ms]
        figures = window_figures(before, after, latencies)
        step.server = server_use(
            await self._server_window(start, end_ms),
            step.streams,
            (start, end_ms),
            self._interval_s,
        )
        figures["server_cpu_per_stream_pct"] = step.server.cpu_per_stream_pct
        figures["server_rss_per_stream_kb"] = step.server.rss_per_stream_kb
        return figures

    async def _fill(self, runs: list[SeatRun]) -> bool:
        """Start the seats at the arrival rate; True once every one is done arriving within
        the settle timeout (steady), False if some still are (they are stopped)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.spec.settle_timeout_s
        by_room: dict[str, list[SeatRun]] = {}
        for run in runs:
            by_room.setdefault(run.seat.room, []).append(run)
        tasks = []
        for index, run in enumerate(runs):
            publishers = [r for r in by_room[run.seat.room] if r.seat.publishes]
            task = asyncio.create_task(
                self._seat_at(index / self.spec.arrival_rate, run, publishers),
                name=f"capacity-seat-{run.seat.name}",
            )
            tasks.append(task)
        self._tasks += tasks
        _done, pending = await asyncio.wait(tasks, timeout=max(0.0, deadline - loop.time()))
        for task in pending:
            task.cancel()
        for run in runs:
            if not run.done:
                run.newcomer.error = run.newcomer.error or f"{run.seat.name}: still arriving"
        return not pending

    async def _seat_at(self, delay_s: float, run: SeatRun, publishers: list[SeatRun]) -> None:
        await self._sleep(delay_s)
        await take_seat(self.session, run, self.spec.room, publishers)

    # -- measuring -------------------------------------------------------------------------------
    def _streams(self) -> int:
        """Publications and subscriptions open now."""
        participants = list(self.session.ctx.participants.values())
        return sum((p.publisher is not None) + len(p.subscriptions) for p in participants)

    async def _snapshot(
        self,
    ) -> tuple[dict[str, SubscriptionSnapshot], dict[str, LatencyMeter | None]]:
        ctx = self.session.ctx

        async def take() -> tuple[dict[str, SubscriptionSnapshot], dict[str, LatencyMeter | None]]:
            snapshots: dict[str, SubscriptionSnapshot] = {}
            meters: dict[str, LatencyMeter | None] = {}
            at = now_ms()
            for name, participant in list(ctx.participants.items()):
                for feed, state in list(participant.subscriptions.items()):
                    key = f"{name}<-{feed}"
                    streams = reception(state.pc, state.media_transceivers()).values()
                    video = state.received.get("video")
                    meter = state.latency
                    snapshots[key] = SubscriptionSnapshot(
                        at_ms=at,
                        expected=sum(s.expected for s in streams),
                        lost=sum(s.lost for s in streams),
                        jitter_ms=tuple(s.jitter_ms for s in streams),
                        video_frames=video.frames if video is not None else 0,
                        latency_mark=meter.mark if meter is not None else 0,
                    )
                    meters[key] = meter
            return snapshots, meters

        return await ctx.on_media(take())

    async def _snapshot_after(
        self, before: dict[str, SubscriptionSnapshot], meters: dict[str, LatencyMeter | None]
    ) -> tuple[dict[str, SubscriptionSnapshot], list[float]]:
        after, now_meters = await self._snapshot()
        latencies: list[float] = []
        for key, snapshot in after.items():
            meter = now_meters.get(key)
            if key in before and meter is not None and meter is meters.get(key):
                latencies += meter.between(before[key].latency_mark, snapshot.latency_mark)
        return after, latencies

    async def _report_client_stats(self) -> None:
        """A client webrtcStats sample of everyone at the window's edges (the one at its end
        carries the window's latency percentiles)."""
        for who in list(self.session.ctx.participants):
            await client_stats.report(self.session.ctx, who)

    async def _server_window(self, start_ms: int, end_ms: int) -> list[Document]:
        """The window's monitoringStats; waits for the one after its end if none lies wholly
        inside it (a window shorter than the sampling interval)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._interval_s + SERVER_SAMPLE_SLACK_S
        while True:
            try:
                samples = await self._server_samples(
                    start_ms, end_ms + int(self._interval_s * 1000)
                )
            except Exception as exc:
                log.warning("monitoringStats not read: %s", exc)
                return []
            stamps = [int(s.get("timestamp", 0)) for s in samples]
            inside = any(start_ms + self._interval_s * 1000 <= t <= end_ms for t in stamps)
            later = any(t > end_ms for t in stamps)
            if inside or later or loop.time() >= deadline:
                return samples
            await self._sleep(1.0)


def step_line(step: StepResult) -> str:
    """One progress line per step: what it held, its main figures, its verdict."""
    figures = step.figures
    parts = [
        f"{name} {shown(figures.get(metric))}"
        for name, metric in (
            ("joins", "join_success_ratio"),
            ("ICE p95", "ice_p95_ms"),
            ("first frame p95", "first_frame_p95_ms"),
            ("latency p95", "latency_p95_ms"),
            ("loss %", "subscriber_loss_pct"),
            ("fps p5", "video_fps_p5"),
        )
        if metric in figures
    ]
    server = step.server
    if server.janus_cpu_pct is not None:
        parts.append(f"Janus {server.janus_cpu_pct:.0f} % CPU")
    if step.server_throttled_pct is not None:
        parts.append(f"throttled in {step.server_throttled_pct:.0f} % of periods")
    generator = step.generator
    lag = generator.loop_lag_p95_max_ms
    parts.append(f"generator {generator.cpu_avg_cores:.2f} core, lag p95 ≤ {lag:.0f} ms")
    return (
        f"step {step.step}: {step.rooms} rooms, {step.streams} streams: {', '.join(parts)} "
        f"→ {step.verdict.upper()} ({step.why})"
    )


def throttled_pct(before: tuple[int, int], after: tuple[int, int]) -> float | None:
    """Throttled periods as a share of the CFS periods between two ``(periods, throttled)``
    readings; None when no period ran (an idle server uses no period)."""
    periods = after[0] - before[0]
    if periods <= 0:
        return None
    return round(100 * (after[1] - before[1]) / periods, 1)
