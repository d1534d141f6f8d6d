"""The scenario file format, as pydantic models.

Each step kind is its own model, discriminated by ``do``; the runner looks executors up by the
same name (see ``simulator.scenario.steps``), so a new kind is one model plus one executor.
Unknown keys are errors: a typo in a field must not silently become a default.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VideoSpec(Strict):
    width: int = Field(640, ge=16, le=3840)
    height: int = Field(480, ge=16, le=2160)
    fps: int = Field(30, ge=1, le=60)
    source: Literal["CAMERA", "SCREEN"] = "CAMERA"


class RoomSpec(Strict):
    name: Name
    bitrate_bps: int = Field(1_000_000, ge=32_000)
    max_publishers: int = Field(16, ge=1, le=100)


class ParticipantSpec(Strict):
    name: Name
    room: Name


def _as_list(value: object) -> object:
    return [value] if isinstance(value, str) else value


class StepBase(Strict):
    at: float = Field(ge=0, description="seconds since the run started")
    who: list[Name] = Field(min_length=1)

    _listify = field_validator("who", mode="before")(_as_list)


class JoinStep(StepBase):
    do: Literal["join"]


class PublishStep(StepBase):
    do: Literal["publish"]
    audio: bool = True
    video: VideoSpec | None = Field(default_factory=lambda: VideoSpec())

    @model_validator(mode="after")
    def _something_to_send(self) -> PublishStep:
        if not self.audio and self.video is None:
            raise ValueError("a publish step needs audio, video or both")
        return self


class SubscribeStep(StepBase):
    do: Literal["subscribe"]
    to: list[Name] = Field(min_length=1, description="publishers, by participant name")

    _listify_to = field_validator("to", mode="before")(_as_list)


class UnsubscribeStep(StepBase):
    do: Literal["unsubscribe"]
    to: list[Name] = Field(min_length=1)

    _listify_to = field_validator("to", mode="before")(_as_list)


class UnpublishStep(StepBase):
    do: Literal["unpublish"]


class LeaveStep(StepBase):
    do: Literal["leave"]


Step = Annotated[
    JoinStep | PublishStep | SubscribeStep | UnsubscribeStep | UnpublishStep | LeaveStep,
    Field(discriminator="do"),
]


class Scenario(Strict):
    name: Name
    description: str = ""
    seed: int = 0
    rooms: list[RoomSpec] = Field(min_length=1)
    participants: list[ParticipantSpec] = Field(min_length=1)
    timeline: list[Step] = Field(min_length=1)

    @model_validator(mode="after")
    def _names_resolve(self) -> Scenario:
        rooms = {room.name for room in self.rooms}
        if len(rooms) != len(self.rooms):
            raise ValueError("room names must be unique")
        people = {p.name for p in self.participants}
        if len(people) != len(self.participants):
            raise ValueError("participant names must be unique")
        for p in self.participants:
            if p.room not in rooms:
                raise ValueError(f"participant {p.name!r} is in unknown room {p.room!r}")
        for index, step in enumerate(self.timeline):
            targets = list(step.who) + list(getattr(step, "to", []))
            for name in targets:
                if name not in people:
                    raise ValueError(
                        f"timeline[{index}] ({step.do}) names unknown participant {name!r}; "
                        f"known: {', '.join(sorted(people))}"
                    )
        return self

    @property
    def duration_s(self) -> float:
        return max(step.at for step in self.timeline)

    def room_of(self, participant: str) -> str:
        return next(p.room for p in self.participants if p.name == participant)
