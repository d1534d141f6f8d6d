"""The scenario file format, as pydantic models.

Each step kind is its own model, discriminated by ``do``; the player looks executors up by the
model's class (``simulator.player.registry``), so a new kind is one model plus one executor.
Unknown keys are errors: a typo in a field must not silently become a default.

Names in ``who``/``to`` are participant names, group names (a participant with ``count: N``
becomes ``name-1`` .. ``name-N`` and ``name`` names the group) or ``all``.
"""

from __future__ import annotations

import difflib
from collections import Counter
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

# Re-exported: the rest of rtcsim imports every scenario model from here.
from simulator.scenario.base import ALL as ALL
from simulator.scenario.base import MEDIA_DESCRIPTION as MEDIA_DESCRIPTION
from simulator.scenario.base import Media as Media
from simulator.scenario.base import Name as Name
from simulator.scenario.base import ParticipantStep as ParticipantStep
from simulator.scenario.base import StepBase as StepBase
from simulator.scenario.base import Strict as Strict
from simulator.scenario.base import _as_list
from simulator.scenario.expectations import AGGREGATES as AGGREGATES
from simulator.scenario.expectations import COMPARISONS as COMPARISONS
from simulator.scenario.expectations import THROUGHPUT_METRICS as THROUGHPUT_METRICS
from simulator.scenario.expectations import Expectation as Expectation
from simulator.scenario.expectations import ExpectItem as ExpectItem
from simulator.scenario.expectations import ThroughputExpectation as ThroughputExpectation
from simulator.scenario.expectations import ThroughputMetric as ThroughputMetric
from simulator.scenario.expectations import Window as Window
from simulator.scenario.media import SUBSTREAM_DESCRIPTION, TEMPORAL_DESCRIPTION
from simulator.scenario.media import SetLayerStep as SetLayerStep
from simulator.scenario.media import TalkSpec as TalkSpec
from simulator.scenario.problems import Problem, format_path
from simulator.scenario.rooms import ParticipantSpec as ParticipantSpec
from simulator.scenario.rooms import RoomSpec as RoomSpec
from simulator.scenario.rooms import VideoSpec as VideoSpec

DEFER_REFERENCES = "rtcsim_defer_references"
"""Validation context key: the loader checks references itself, to report each at its line."""


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


class Scenario(Strict):
    name: Name
    description: str = ""
    seed: int = 0
    rooms: list[RoomSpec] = Field(min_length=1)
    participants: list[ParticipantSpec] = Field(min_length=1)
    timeline: list[Step] = Field(min_length=1)
    expect: list[ExpectItem] = Field(default_factory=list)

    @model_validator(mode="after")
    def _names_resolve(self, info: ValidationInfo) -> Scenario:
        if info.context and info.context.get(DEFER_REFERENCES):
            return self
        problems = reference_problems(self)
        if problems:
            raise ValueError("; ".join(f"{p.where}: {p.message}" for p in problems))
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


def reference_problems(scenario: Scenario) -> list[Problem]:
    """Names that must resolve: rooms, participants and groups, step labels, and what a room's
    codec allows; each problem at the entry at fault. The model runs these when built in code
    (``Scenario(...)`` raises with all of them); the loader, to report each at its line."""
    problems = _spec_problems(scenario)
    rooms = {room.name for room in scenario.rooms}
    known = {m for p in scenario.participants for m in p.members}
    known |= {p.name for p in scenario.participants} | {ALL}
    labels: dict[str, int] = {}
    for index, step in enumerate(scenario.timeline):
        for field in ("who", "to"):
            for name in getattr(step, field, []):
                if name not in known:
                    problems.append(
                        Problem(
                            ("timeline", index, field),
                            f"{step.do} names unknown participant {name!r}"
                            + did_you_mean(name, known),
                        )
                    )
        room = getattr(step, "room", None)
        if isinstance(room, str) and room not in rooms:
            problems.append(
                Problem(
                    ("timeline", index, "room"),
                    f"{step.do} names unknown room {room!r}" + did_you_mean(room, rooms),
                )
            )
        if isinstance(step, PublishStep):
            problems += _codec_problems(scenario, index, step, known)
        if step.label is not None:
            if step.label in labels:
                first = format_path(("timeline", labels[step.label]))
                problems.append(
                    Problem(
                        ("timeline", index, "label"),
                        f"label {step.label!r} is used twice (first at {first})",
                    )
                )
            labels.setdefault(step.label, index)
    for index, expectation in enumerate(scenario.expect):
        window = getattr(expectation, "window", None)
        for key, label in (("from", window.start), ("to", window.end)) if window else ():
            if label is not None and label not in labels:
                problems.append(
                    Problem(
                        ("expect", index, "window", key),
                        f"window names unknown step label {label!r}"
                        + did_you_mean(label, set(labels)),
                    )
                )
    return problems


def _spec_problems(scenario: Scenario) -> list[Problem]:
    problems = []
    rooms = [room.name for room in scenario.rooms]
    for index, name in enumerate(rooms):
        if name in rooms[:index]:
            problems.append(Problem(("rooms", index, "name"), f"room name {name!r} is used twice"))
    seen: Counter[str] = Counter()
    for index, spec in enumerate(scenario.participants):
        names = [spec.name] if spec.count == 1 else [spec.name, *spec.members]
        clash = [n for n in names if seen[n]]
        seen.update(names)
        if clash:
            problems.append(
                Problem(
                    ("participants", index, "name"),
                    f"participant name {clash[0]!r} is used twice (names and group members "
                    "must be unique)",
                )
            )
        if spec.room not in rooms:
            problems.append(
                Problem(
                    ("participants", index, "room"),
                    f"participant {spec.name!r} is in unknown room {spec.room!r}"
                    + did_you_mean(spec.room, set(rooms)),
                )
            )
    return problems


def _codec_problems(
    scenario: Scenario, index: int, step: PublishStep, known: set[str]
) -> list[Problem]:
    if not step.video or not (step.media == "cheap" or step.simulcast):
        return []
    what = "simulcast sends VP8 layers" if step.simulcast else "cheap media sends pre-encoded VP8"
    codecs = {room.name: room.videocodec for room in scenario.rooms}
    problems = []
    for name in scenario.resolve([n for n in step.who if n in known]):
        try:
            codec = codecs.get(scenario.room_of(name))
        except KeyError:
            continue
        if codec is not None and codec != "vp8":
            problems.append(
                Problem(("timeline", index), f"{what}, but {name!r} is in a {codec} room")
            )
    return problems


def did_you_mean(name: str, known: set[str]) -> str:
    """``; did you mean 'alice'? (known: alice, all, bob)``: the closest name, and the known
    ones while they are few enough to read."""
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    listed = sorted(known)
    more = " …" if len(listed) > 12 else ""
    names = f"known: {', '.join(listed[:12])}{more}" if listed else ""
    if close:
        return f"; did you mean {close[0]!r}? ({names})"
    return f"; {names}" if names else ""
