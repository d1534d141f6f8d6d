"""Scenario models of who and where: rooms, participants (and groups of them), video shapes."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from simulator.scenario.base import Name, Strict


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
