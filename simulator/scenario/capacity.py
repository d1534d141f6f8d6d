"""Capacity scenarios: rooms of N added step by step until a service level breaks.

A file with ``capacity:`` (the rooms and the steps) and ``slo:`` (the service levels every
step must hold) instead of rooms, participants and a timeline::

    name: capacity-rooms-of-4
    capacity:
      room: {users: 4, publishers: 1, media: cheap}
      start_rooms: 2
      step_rooms: 2
      max_steps: 8
      hold_s: 30
      server_cpu_cores: 0.5   # optional: Janus held to half a core (cgroup v1 CFS quota)
    slo:
      - {metric: join_success_ratio, op: ">=", value: 0.99}
      - {metric: latency_p95_ms, op: "<=", value: 300}

Each step adds ``step_rooms`` rooms to those already held (the first step opens
``start_rooms``), waits until the step is steady, measures a window of ``hold_s`` and judges
it against every SLO (``simulator.load.capacity``). The metrics are the throughput metrics'
names, computed over the step: joins, ICE and first frames of the step's newcomers; latency,
loss, jitter, frame rate and the server's CPU and memory of every stream during the window.
"""

from __future__ import annotations

import os
from typing import Literal, get_args

from pydantic import Field, model_validator

from simulator.scenario.base import Media, Name, Strict
from simulator.scenario.model import ExpectItem, VideoSpec

SloMetric = Literal[
    "join_success_ratio",
    "ice_p50_ms",
    "ice_p95_ms",
    "first_frame_p50_ms",
    "first_frame_p95_ms",
    "latency_p50_ms",
    "latency_p95_ms",
    "subscriber_loss_pct",
    "jitter_p95_ms",
    "video_fps_p5",
    "server_cpu_per_stream_pct",
    "server_rss_per_stream_kb",
]
SLO_METRICS: tuple[str, ...] = get_args(SloMetric)
"""The throughput metrics (``expectations.THROUGHPUT_METRICS``, whose descriptions they share)
that a step's window can judge: ``peers_held``, ``sessions_per_second`` and ``docs_per_second``
describe a whole run, not a step. A test holds the two lists together."""
MAX_USERS = 500
"""The most users a capacity search may hold at its last step (as ``LoadSpec.users``)."""


class SubscriberImpairment(Strict):
    """In-process impairment of every subscriber's downlink, from its join (a run made
    worse on purpose, e.g. for ``rtcsim compare``)."""

    loss_pct: float = Field(0.0, ge=0, le=100)
    delay_ms: float = Field(0.0, ge=0, le=5_000)
    jitter_ms: float = Field(0.0, ge=0, le=5_000)


class CapacityRoom(Strict):
    """One room of the search: ``users`` seats, the first ``publishers`` publish, the others
    subscribe to every publisher of the room."""

    users: int = Field(4, ge=2, le=16)
    publishers: int = Field(1, ge=1, le=16)
    publishers_subscribe: bool = Field(
        False, description="publishers also receive the room's other publishers (a conference)"
    )
    media: Media = "cheap"
    audio: bool = True
    video: VideoSpec = VideoSpec()
    subscriber_impairment: SubscriberImpairment | None = None

    @model_validator(mode="after")
    def _someone_subscribes(self) -> CapacityRoom:
        if self.publishers > self.users:
            raise ValueError(f"publishers ({self.publishers}) > users ({self.users})")
        if self.publishers == self.users and not (self.publishers_subscribe and self.users > 1):
            raise ValueError("nobody subscribes: fewer publishers, or publishers_subscribe: true")
        return self


class CapacitySpec(Strict):
    room: CapacityRoom = CapacityRoom()
    start_rooms: int = Field(1, ge=1, le=100, description="rooms the first step opens")
    step_rooms: int = Field(1, ge=1, le=100, description="rooms each further step adds")
    max_steps: int = Field(8, ge=1, le=40)
    arrival_rate: float = Field(
        4.0, gt=0, le=50, description="users per second arriving while a step fills"
    )
    settle_timeout_s: float = Field(
        60.0,
        gt=0,
        le=600,
        description="a step whose newcomers are not all in (joined, connected, first video "
        "frame, or failed) this long after it began is not steady: it breaks the search",
    )
    warmup_s: float = Field(
        3.0, ge=0, le=120, description="from steady to the window (key frames, NACKs settle)"
    )
    hold_s: float = Field(30.0, ge=5, le=600, description="the measured window of each step")
    retries: int = Field(
        1,
        ge=0,
        le=5,
        description="a window in which the generator was saturated is measured again, the "
        "same rooms held, this many times before the step counts as invalid",
    )
    server_cpu_cores: float | None = Field(
        None,
        gt=0,
        description="CPUs the media server may use during the search (a cgroup CFS quota), so "
        "the server, not the generator beside it, runs out first; the capacity is then per "
        "this budget. Absent: no budget",
    )

    def rooms_at(self, step: int) -> int:
        """Rooms held at step ``step`` (1-based)."""
        return self.start_rooms + (step - 1) * self.step_rooms

    @model_validator(mode="after")
    def _bounded(self) -> CapacitySpec:
        cores = os.cpu_count() or 1
        if self.server_cpu_cores is not None and self.server_cpu_cores > cores:
            raise ValueError(
                f"server_cpu_cores {self.server_cpu_cores:g} is more than this machine's "
                f"{cores} cores"
            )
        users = self.rooms_at(self.max_steps) * self.room.users
        if users > MAX_USERS:
            raise ValueError(
                f"the last step would hold {users} users (> {MAX_USERS}): fewer steps or rooms"
            )
        return self


class Slo(Strict):
    """A service level each step must hold, e.g. ``{metric: latency_p95_ms, op: "<=",
    value: 300}``."""

    metric: SloMetric
    op: Literal["<", "<=", ">=", ">"]
    value: float
    name: str | None = Field(None, max_length=200)

    @property
    def label(self) -> str:
        return self.name or f"{self.metric} {self.op} {self.value:g}"


class CapacityScenario(Strict):
    """A capacity search: rooms added step by step until an SLO breaks; then checked like any
    run (built-in invariants, plus ``expect`` over the whole run)."""

    name: Name
    description: str = ""
    seed: int = 0
    capacity: CapacitySpec
    slo: list[Slo] = Field(min_length=1)
    expect: list[ExpectItem] = Field(default_factory=list)

    @model_validator(mode="after")
    def _no_windows(self) -> CapacityScenario:
        for index, expectation in enumerate(self.expect):
            if getattr(expectation, "window", None) is not None:
                raise ValueError(f"expect[{index}]: a capacity run has no labelled steps")
        return self

    @property
    def duration_s(self) -> float:
        """An upper bound: every step at its longest."""
        spec = self.capacity
        fill = spec.rooms_at(spec.max_steps) * spec.room.users / spec.arrival_rate
        window = (1 + spec.retries) * (spec.warmup_s + spec.hold_s)
        return fill + spec.max_steps * (spec.settle_timeout_s + window)
