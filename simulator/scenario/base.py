"""What every scenario model shares: strict models, names, the base of every step."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
Media = Literal["live", "cheap"]
MEDIA_DESCRIPTION = (
    "live: encode/decode in real time (honours PLI/FIR); "
    "cheap: loop pre-encoded VP8/Opus, count received frames without decoding (for load)"
)
ALL = "all"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _as_list(value: object) -> object:
    return [value] if isinstance(value, str) else value


class StepBase(Strict):
    at: float = Field(ge=0, description="seconds since the run started")
    label: Name | None = Field(None, description="names this moment for expectation windows")


class ParticipantStep(StepBase):
    who: list[Name] = Field(min_length=1)

    _listify = field_validator("who", mode="before")(_as_list)
