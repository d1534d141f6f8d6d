"""Scenario models for media choices beyond the basics: simulcast layers and talk spurts."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from simulator.scenario.base import Name, ParticipantStep, Strict, _as_list


class TalkSpec(Strict):
    """Speak and pause, with Opus DTX silence in the pauses: on a ``pattern`` (seconds,
    speaking first, alternating, repeated) or at random around the two means (ITU-T P.59's by
    default), drawn from ``seed`` (default: the scenario's seed and the participant's name)."""

    pattern: list[float] | None = Field(None, min_length=2, max_length=64)
    speak_mean_s: float = Field(1.004, gt=0, le=60)
    pause_mean_s: float = Field(1.587, gt=0, le=60)
    seed: int | None = None

    @field_validator("pattern")
    @classmethod
    def _positive(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and any(seconds <= 0 for seconds in value):
            raise ValueError("talk pattern seconds must be positive")
        return value


SUBSTREAM_DESCRIPTION = "simulcast layer: 0 lowest (quarter size) .. 2 highest (full size)"
TEMPORAL_DESCRIPTION = "VP8 temporal layers: 0 (1/4 of the frames), 1 (1/2), 2 (all)"


class SetLayerStep(ParticipantStep):
    """A subscriber asks for another simulcast layer of publishers it receives (VideoRoom
    ``configure``); Janus switches on the next key frame of that layer."""

    do: Literal["set_layer"]
    to: list[Name] = Field(min_length=1, description="publishers by name, group, or all")
    substream: int | None = Field(None, ge=0, le=2, description=SUBSTREAM_DESCRIPTION)
    temporal: int | None = Field(None, ge=0, le=2, description=TEMPORAL_DESCRIPTION)

    _listify_to = field_validator("to", mode="before")(_as_list)

    @model_validator(mode="after")
    def _a_layer(self) -> SetLayerStep:
        if self.substream is None and self.temporal is None:
            raise ValueError("set_layer needs a substream, a temporal layer or both")
        return self
