"""The scenario file format, as pydantic models.

Each step kind is its own model, discriminated by ``do``; the player looks executors up by the
model's class (``simulator.player.registry``), so a new kind is one model plus one executor.
Unknown keys are errors: a typo in a field must not silently become a default.

Names in ``who``/``to`` are participant names, group names (a participant with ``count: N``
becomes ``name-1`` .. ``name-N`` and ``name`` names the group) or ``all``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

# Re-exported: the rest of rtcsim imports every scenario model from here.
from simulator.scenario.base import ALL as ALL
from simulator.scenario.base import MEDIA_DESCRIPTION as MEDIA_DESCRIPTION
from simulator.scenario.base import Media as Media
from simulator.scenario.base import Name as Name
from simulator.scenario.base import ParticipantStep as ParticipantStep
from simulator.scenario.base import StepBase as StepBase
from simulator.scenario.base import Strict as Strict
from simulator.scenario.base import _as_list
from simulator.scenario.media import SUBSTREAM_DESCRIPTION, TEMPORAL_DESCRIPTION
from simulator.scenario.media import SetLayerStep as SetLayerStep
from simulator.scenario.media import TalkSpec as TalkSpec


class VideoSpec(Strict):
    width: int = Field(640, ge=16, le=3840)
    height: int = Field(480, ge=16, le=2160)
    fps: int = Field(30, ge=1, le=60)
    source: Literal["CAMERA", "SCREEN"] = "CAMERA"


class RoomSpec(Strict):
    name: Name
    bitrate_bps: int = Field(
        1_000_000,
        ge=32_000,
        description="Janus's cap on each publisher's video, sent to it as REMB: a simulcast "
        "publisher switches off the layers it does not cover",
    )
    max_publishers: int = Field(16, ge=1, le=100)
    videocodec: Literal["vp8", "h264"] = "vp8"
    audio_level_event: bool = Field(
        False, description="Janus tells the room who starts and stops talking (audio levels)"
    )
    audio_active_packets: int | None = Field(
        None, ge=1, le=1000, description="audio packets per talking decision (Janus: 100)"
    )
    audio_level_average: int | None = Field(
        None, ge=1, le=127, description="average level (-dBov) under which one talks (Janus: 25)"
    )


class ParticipantSpec(Strict):
    name: Name
    room: Name
    count: int = Field(1, ge=1, le=500, description="more than one: name-1 .. name-N")

    @property
    def members(self) -> list[str]:
        if self.count == 1:
            return [self.name]
        return [f"{self.name}-{i}" for i in range(1, self.count + 1)]


class JoinStep(ParticipantStep):
    do: Literal["join"]


class PublishStep(ParticipantStep):
    do: Literal["publish"]
    audio: bool = True
    video: VideoSpec | None = Field(default_factory=lambda: VideoSpec())
    media: Media = Field("live", description=MEDIA_DESCRIPTION)
    simulcast: bool = Field(
        False, description="three VP8 layers by rid (full, half, quarter size), as a browser"
    )
    talk: TalkSpec | None = None

    @model_validator(mode="after")
    def _something_to_send(self) -> PublishStep:
        if not self.audio and self.video is None:
            raise ValueError("a publish step needs audio, video or both")
        if self.simulcast and self.video is None:
            raise ValueError("simulcast needs video")
        if self.talk is not None and not self.audio:
            raise ValueError("talk spurts need audio")
        return self


class SubscribeStep(ParticipantStep):
    do: Literal["subscribe"]
    to: list[Name] = Field(min_length=1, description="publishers by name, group, or all")
    media: Media = Field("live", description=MEDIA_DESCRIPTION)
    substream: int | None = Field(None, ge=0, le=2, description=SUBSTREAM_DESCRIPTION)
    temporal: int | None = Field(None, ge=0, le=2, description=TEMPORAL_DESCRIPTION)

    _listify_to = field_validator("to", mode="before")(_as_list)


class UnsubscribeStep(ParticipantStep):
    do: Literal["unsubscribe"]
    to: list[Name] = Field(min_length=1)

    _listify_to = field_validator("to", mode="before")(_as_list)


class UnpublishStep(ParticipantStep):
    do: Literal["unpublish"]


class MuteStep(ParticipantStep):
    do: Literal["mute", "unmute"]
    kind: Literal["audio", "video"]


class SignalStep(ParticipantStep):
    do: Literal["signal"]
    to: list[Name] = Field(min_length=1)
    type: str = Field("chat", max_length=100)
    data: str = Field("", max_length=4096)

    _listify_to = field_validator("to", mode="before")(_as_list)


class LeaveStep(ParticipantStep):
    do: Literal["leave"]


class DropStep(ParticipantStep):
    """The network vanishes: no goodbye to Janus, no DTLS alert; Janus must notice by itself."""

    do: Literal["drop"]


class RejoinStep(ParticipantStep):
    """A dropped or departed participant comes back: same user, a new connection."""

    do: Literal["rejoin"]
    publish: bool = Field(True, description="publish again what it published before")


class KickStep(ParticipantStep):
    """The server side removes the participant (VideoRoom ``kick``)."""

    do: Literal["kick"]


class DestroyRoomStep(StepBase):
    do: Literal["destroy_room"]
    room: Name


class StartRecordingStep(StepBase):
    """Start recording a room, with OpenVidu's recording properties."""

    do: Literal["start_recording"]
    room: Name
    name: Name
    output_mode: Literal["INDIVIDUAL", "COMPOSED"] = "COMPOSED"
    has_audio: bool = True
    has_video: bool = True
    resolution: str = Field("1280x720", pattern=r"^[1-9][0-9]{1,3}x[1-9][0-9]{1,3}$")
    frame_rate: int = Field(25, ge=1, le=60)
    recording_layout: Literal["BEST_FIT"] = "BEST_FIT"

    @model_validator(mode="after")
    def _records_something(self) -> StartRecordingStep:
        if not self.has_audio and not self.has_video:
            raise ValueError("a recording needs audio, video or both")
        return self


class StopRecordingStep(StepBase):
    do: Literal["stop_recording"]
    room: Name
    name: Name


class Direction(StrEnum):
    UP = "up"
    DOWN = "down"
    BOTH = "both"


class ImpairStep(ParticipantStep):
    """Network impairment on a participant's peers, in force until the next impair step."""

    do: Literal["impair"]
    loss_pct: float = Field(0.0, ge=0, le=100)
    delay_ms: float = Field(0.0, ge=0, le=5_000)
    jitter_ms: float = Field(0.0, ge=0, le=5_000)
    rate_kbps: int | None = Field(None, ge=8)
    direction: Direction = Direction.BOTH
    depth: Literal["process", "kernel"] = "process"


Step = Annotated[
    JoinStep
    | PublishStep
    | SubscribeStep
    | SetLayerStep
    | UnsubscribeStep
    | UnpublishStep
    | MuteStep
    | SignalStep
    | LeaveStep
    | DropStep
    | RejoinStep
    | KickStep
    | DestroyRoomStep
    | StartRecordingStep
    | StopRecordingStep
    | ImpairStep,
    Field(discriminator="do"),
]
STEP_KINDS = [
    "join",
    "publish",
    "subscribe",
    "set_layer",
    "unsubscribe",
    "unpublish",
    "mute",
    "unmute",
    "signal",
    "leave",
    "drop",
    "rejoin",
    "kick",
    "destroy_room",
    "impair",
    "start_recording",
    "stop_recording",
]

COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    ">": operator.gt,
}
AGGREGATES = ("count", "sum", "avg", "min", "max", "p50", "p95", "p99", "last")


class Window(Strict):
    """Limit an expectation to documents timestamped between two labelled steps."""

    start: Name | None = Field(None, alias="from")
    end: Name | None = Field(None, alias="to")


class Expectation(Strict):
    """A structured assertion over the run's documents (no expressions are ever evaluated)."""

    name: str = Field(min_length=1, max_length=200)
    type: str = Field(description="elastic_type, e.g. webrtcStats, cdr, subscriberSummary")
    filter: dict[str, str | int | float | bool] = Field(default_factory=dict)
    field: str | None = Field(None, description="numeric field; not needed for count")
    aggregate: Literal["count", "sum", "avg", "min", "max", "p50", "p95", "p99", "last"]
    op: Literal["<", "<=", "==", "!=", ">=", ">"]
    value: float
    window: Window | None = None

    @model_validator(mode="after")
    def _field_for_numbers(self) -> Expectation:
        if self.aggregate != "count" and not self.field:
            raise ValueError(f"aggregate {self.aggregate!r} needs a field")
        return self


THROUGHPUT_METRICS = {
    "peers_held": "the most connections joined at the same time",
    "sessions_per_second": "connections that joined, per second of the run",
    "join_success_ratio": "connections that joined / connections attempted (0..1)",
    "ice_p95_ms": "p95 of offer to ICE connected (webrtcup), publications and subscriptions",
    "first_frame_p95_ms": "p95 of subscription start to its first complete video frame",
    "docs_per_second": "documents the collector stored for the run, per second of the run",
}
ThroughputMetric = Literal[
    "peers_held",
    "sessions_per_second",
    "join_success_ratio",
    "ice_p95_ms",
    "first_frame_p95_ms",
    "docs_per_second",
]


class ThroughputExpectation(Strict):
    """A target over the whole run, computed from the ledger (what the generator did) and the
    count of documents stored, e.g. ``{metric: join_success_ratio, op: ">=", value: 0.99}``."""

    name: str = Field(min_length=1, max_length=200)
    metric: ThroughputMetric = Field(
        description="; ".join(f"{k}: {v}" for k, v in THROUGHPUT_METRICS.items())
    )
    op: Literal["<", "<=", "==", "!=", ">=", ">"]
    value: float


def _expectation_kind(value: object) -> str:
    if isinstance(value, dict):
        return "throughput" if "metric" in value else "documents"
    return "throughput" if isinstance(value, ThroughputExpectation) else "documents"


ExpectItem = Annotated[
    Annotated[Expectation, Tag("documents")] | Annotated[ThroughputExpectation, Tag("throughput")],
    Discriminator(_expectation_kind),
]


class Scenario(Strict):
    name: Name
    description: str = ""
    seed: int = 0
    rooms: list[RoomSpec] = Field(min_length=1)
    participants: list[ParticipantSpec] = Field(min_length=1)
    timeline: list[Step] = Field(min_length=1)
    expect: list[ExpectItem] = Field(default_factory=list)

    @model_validator(mode="after")
    def _names_resolve(self) -> Scenario:
        rooms = {room.name for room in self.rooms}
        if len(rooms) != len(self.rooms):
            raise ValueError("room names must be unique")
        members = [m for p in self.participants for m in p.members]
        groups = [p.name for p in self.participants]
        if len(set(members) | set(groups)) != len(set(members + groups)) or len(members) != len(
            set(members)
        ):
            raise ValueError("participant names must be unique")
        for p in self.participants:
            if p.room not in rooms:
                raise ValueError(f"participant {p.name!r} is in unknown room {p.room!r}")
        known = set(members) | set(groups) | {ALL}
        labels: set[str] = set()
        for index, step in enumerate(self.timeline):
            names = list(getattr(step, "who", [])) + list(getattr(step, "to", []))
            for name in names:
                if name not in known:
                    raise ValueError(
                        f"timeline[{index}] ({step.do}) names unknown participant {name!r}; "
                        f"known: {', '.join(sorted(known))}"
                    )
            if isinstance(step, DestroyRoomStep | StartRecordingStep | StopRecordingStep) and (
                step.room not in rooms
            ):
                raise ValueError(f"timeline[{index}] ({step.do}) names unknown room {step.room!r}")
            if (
                isinstance(step, PublishStep)
                and step.video
                and (step.media == "cheap" or step.simulcast)
            ):
                what = (
                    "simulcast sends VP8 layers"
                    if step.simulcast
                    else ("cheap media sends pre-encoded VP8")
                )
                for name in self.resolve(step.who):
                    codec = next(r.videocodec for r in self.rooms if r.name == self.room_of(name))
                    if codec != "vp8":
                        raise ValueError(
                            f"timeline[{index}]: {what}, but {name!r} is in a {codec} room"
                        )
            if step.label is not None:
                if step.label in labels:
                    raise ValueError(f"timeline[{index}]: label {step.label!r} is used twice")
                labels.add(step.label)
        for index, expectation in enumerate(self.expect):
            window = getattr(expectation, "window", None)
            for label in (window.start, window.end) if window else ():
                if label is not None and label not in labels:
                    raise ValueError(f"expect[{index}] window names unknown step label {label!r}")
        return self

    @property
    def duration_s(self) -> float:
        return max(step.at for step in self.timeline)

    @property
    def everyone(self) -> list[str]:
        return [m for p in self.participants for m in p.members]

    def resolve(self, names: list[str]) -> list[str]:
        """Participant names for a ``who``/``to`` list: members, groups and ``all`` expanded."""
        out: list[str] = []
        for name in names:
            if name == ALL:
                expanded = self.everyone
            else:
                group = next((p for p in self.participants if p.name == name), None)
                expanded = group.members if group is not None else [name]
            out += [m for m in expanded if m not in out]
        return out

    def room_of(self, participant: str) -> str:
        for spec in self.participants:
            if participant in spec.members:
                return spec.room
        raise KeyError(participant)

    def label_time(self, label: str) -> float:
        return next(step.at for step in self.timeline if step.label == label)
