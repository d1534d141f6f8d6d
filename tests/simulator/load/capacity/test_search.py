"""The search on a pretend load session: rooms whose latency grows with the load, a generator
that saturates, a step that never settles. No peer, no Janus: what is tested is the search's
own logic (steps, steadiness, windows, verdicts, where it stops)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, cast

from simulator.ledger import (
    ConnectionRecord,
    LagSummary,
    Ledger,
    ParticipantRecord,
    PublicationRecord,
    SubscriptionRecord,
    now_ms,
)
from simulator.load.capacity.search import CapacitySearch, Throttling, throttled_pct
from simulator.load.session import LoadSession
from simulator.peers.latency import LatencyMeter, SentFrames
from simulator.peers.peer_state import TrackCounters
from simulator.scenario.capacity import CapacityRoom, CapacityScenario, CapacitySpec, Slo
from simulator.watch.model import GeneratorSample


class _Pc:
    def getTransceivers(self) -> list[Any]:
        return []


@dataclass
class _Subscription:
    first_frame_s: float | None = 0.05
    received: dict[str, TrackCounters] = field(default_factory=dict)
    latency: LatencyMeter = field(default_factory=lambda: LatencyMeter(lambda: SentFrames()))
    pc: _Pc = field(default_factory=_Pc)

    def media_transceivers(self) -> list[Any]:
        return list(self.pc.getTransceivers())


@dataclass
class _Participant:
    publisher: object | None = None
    subscriptions: dict[str, _Subscription] = field(default_factory=dict)

    async def client_stats(self) -> list[dict[str, Any]]:
        return []


class _Collector:
    async def post(self, path: str, body: object) -> None:
        return None


@dataclass
class _Ctx:
    ledger: Ledger = field(default_factory=lambda: Ledger("run", "cap", 0, started_ms=now_ms()))
    participants: dict[str, _Participant] = field(default_factory=dict)
    collector: _Collector = field(default_factory=_Collector)

    async def on_media(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return await coro


@dataclass
class _Watch:
    samples: list[GeneratorSample] = field(default_factory=list)


class World:
    """A load session's stand-in: latency grows by ``ms_per_room`` with every room held; the
    generator saturates from ``saturates_at`` rooms; publishers of ``hangs_in`` never connect."""

    def __init__(
        self,
        ms_per_room: float = 0.0,
        saturates_at: int = 99,
        hangs_in: str | None = None,
        busy_windows: int = 99,
    ) -> None:
        self.ctx = _Ctx()
        self.watch = _Watch()
        self.ms_per_room = ms_per_room
        self.saturates_at = saturates_at
        self.hangs_in = hangs_in
        self.busy_windows = busy_windows
        """How many windows a saturated generator stays so (other work on the machine)."""

    @property
    def rooms(self) -> int:
        return len({p.room for p in self.ctx.ledger.participants.values()})

    async def sleep(self, seconds: float) -> None:
        """Time passing: each subscription gets frames, each a latency of the current load."""
        frames = max(1, int(seconds * 30))
        for participant in self.ctx.participants.values():
            for sub in participant.subscriptions.values():
                sub.received.setdefault("video", TrackCounters()).frames += frames
                sub.latency.samples.extend([10.0 + self.ms_per_room * self.rooms] * frames)
        saturated = self.rooms >= self.saturates_at and self.busy_windows > 0
        if saturated and seconds >= 1:
            self.busy_windows -= 1
        lag = LagSummary(p95_ms=300.0 if saturated else 5.0)
        sample = GeneratorSample(now_ms(), "capacity", 1, "h", 0.3, 1000, {"media": lag}, saturated)
        # Busy, it is all the watch sees (the pretend clock runs fast: steps share their ms).
        self.watch.samples += [sample] * (4 if saturated else 1)
        # A few real ms for a window's worth of pretend seconds: windows get instants apart.
        await asyncio.sleep(0.005 if seconds >= 1 else 0)

    # -- what seats ask of the session --------------------------------------------------------
    async def arrive(self, who: str, room: str) -> None:
        self.ctx.ledger.participants[who] = ParticipantRecord(who, "u", room, "x", "y")

    async def enter_room(self, seat: object, options: object) -> None:
        return None

    async def join_failed(self, who: str, room: str, error: BaseException) -> None:
        return None

    async def step(self, step: Any, who: str) -> None:
        record = self.ctx.ledger.participants[who]
        t = now_ms()
        if step.do == "join":
            record.connections.append(ConnectionRecord(f"c-{who}", record.room, joined_ms=t))
            self.ctx.participants[who] = _Participant()
        elif step.do == "publish":
            publication = PublicationRecord("st", True, True, 640, 480, 30, t)
            record.current.publications.append(publication)
            if record.room == self.hangs_in:
                await asyncio.Event().wait()
            publication.ice_connected_ms = t + 80
            self.ctx.participants[who].publisher = object()
        elif step.do == "subscribe":
            for feed in step.to:
                sub = SubscriptionRecord(feed, feed, "st", t, ice_connected_ms=t + 120)
                record.current.subscriptions.append(sub)
                self.ctx.participants[who].subscriptions[feed] = _Subscription()


def _scenario(max_steps: int = 6, settle_timeout_s: float = 30.0) -> CapacityScenario:
    spec = CapacitySpec(
        room=CapacityRoom(users=3),
        start_rooms=1,
        step_rooms=1,
        max_steps=max_steps,
        arrival_rate=50,
        warmup_s=0,
        hold_s=5,
        settle_timeout_s=settle_timeout_s,
    )
    slo = [
        Slo(metric="latency_p95_ms", op="<=", value=100),
        Slo(metric="join_success_ratio", op=">=", value=1.0),
        Slo(metric="server_cpu_per_stream_pct", op="<=", value=5),
    ]
    return CapacityScenario(name="cap", capacity=spec, slo=slo)


async def _monitoring(start_ms: int, end_ms: int) -> list[dict[str, Any]]:
    return [{"elastic_type": "monitoringStats", "timestamp": start_ms, "janus_cpu": 6.0}]


async def _search(
    world: World, scenario: CapacityScenario, throttling: Throttling | None = None
) -> Any:
    lines: list[str] = []
    search = CapacitySearch(
        cast(LoadSession, world),
        scenario,
        server_samples=_monitoring,
        monitoring_interval_s=0.0,
        progress=lines.append,
        throttling=throttling,
        sleep=world.sleep,
    )
    return await search.run(), lines


async def test_the_search_stops_at_the_first_step_that_breaks_and_keeps_the_one_before() -> None:
    world = World(ms_per_room=25.0)  # 35, 60, 85, 110 ms: the fourth room breaks 100 ms
    result, lines = await _search(world, _scenario())
    assert [s.verdict for s in result.steps] == ["good", "good", "good", "slo"]
    assert result.ending == "slo"
    assert result.capacity_rooms == 3
    knee = result.steps[-1]
    assert knee.figures["latency_p95_ms"] == 110.0
    assert knee.why == "latency_p95_ms 110 (SLO <= 100)"
    assert [s.streams for s in result.steps] == [3, 6, 9, 12]
    assert [s.server.cpu_per_stream_pct for s in result.steps[:2]] == [2.0, 1.0]
    assert all(s.figures["join_success_ratio"] == 1.0 for s in result.steps)
    assert len(lines) == 8
    assert lines[-1].endswith("(latency_p95_ms 110 (SLO <= 100))")
    assert result.invalid_reason is None


async def test_a_step_whose_generator_saturated_ends_the_search_as_invalid() -> None:
    world = World(ms_per_room=40.0, saturates_at=2)  # would break at 3 rooms, saturates at 2
    result, _lines = await _search(world, _scenario())
    assert [s.verdict for s in result.steps] == ["good", "generator"]
    assert result.ending == "generator"
    assert result.capacity_rooms == 1
    assert result.invalid_reason is not None
    assert "step 2 (2 rooms)" in result.invalid_reason


async def test_a_window_saturated_by_a_passing_burst_is_measured_again() -> None:
    world = World(saturates_at=2, busy_windows=1)  # the second step's first window only
    result, lines = await _search(world, _scenario(max_steps=3))
    assert [s.verdict for s in result.steps] == ["good", "good", "good"]
    assert [s.remeasured for s in result.steps] == [0, 1, 0]
    assert any("measuring the window again (1 of 1)" in line for line in lines)


async def test_a_step_that_never_settles_breaks_the_search() -> None:
    world = World(hangs_in="cap-2")
    result, _lines = await _search(world, _scenario(settle_timeout_s=0.3))
    assert [s.verdict for s in result.steps] == ["good", "unsteady"]
    assert result.steps[-1].failures == ["cap-2-u1: still arriving", "cap-2-u2: still arriving",
                                         "cap-2-u3: still arriving"]  # fmt: skip
    assert result.steps[-1].window_ms == []
    assert result.capacity_rooms == 1


async def test_with_a_cpu_budget_each_window_says_how_often_the_server_was_throttled() -> None:
    readings = iter([(0, 0), (100, 10), (100, 10), (300, 170)])  # a window's start, its end
    result, lines = await _search(World(), _scenario(max_steps=2), lambda: next(readings))
    assert [s.server_throttled_pct for s in result.steps] == [10.0, 80.0]
    assert "throttled in 80 % of periods" in lines[-1]


async def test_without_a_budget_no_step_has_a_throttled_share() -> None:
    result, lines = await _search(World(), _scenario(max_steps=1))
    assert result.steps[0].server_throttled_pct is None
    assert "throttled" not in lines[-1]


def test_a_window_without_a_cfs_period_has_no_throttled_share() -> None:
    assert throttled_pct((50, 5), (50, 5)) is None
    assert throttled_pct((50, 5), (150, 30)) == 25.0


async def test_every_step_holding_ends_at_max_steps() -> None:
    result, _lines = await _search(World(), _scenario(max_steps=2))
    assert result.ending == "max_steps"
    assert result.capacity_rooms == 2
    assert result.headline().endswith("every step held (max_steps reached)")


async def test_everyone_leaves_at_once_and_who_could_not_is_named() -> None:
    from simulator.load.capacity.seats import leave_everyone

    world = World()
    await _search(world, _scenario(max_steps=2))
    left: list[str] = []

    async def leave(who: str) -> None:
        await asyncio.sleep(0.01)
        if who == "cap-2-u3":
            raise RuntimeError("Janus said no")
        left.append(who)

    world.leave = leave  # type: ignore[attr-defined]
    failed = await leave_everyone(cast(LoadSession, world))
    assert sorted(left) == sorted(set(world.ctx.participants) - {"cap-2-u3"})
    assert failed == ["cap-2-u3: RuntimeError: Janus said no"]
