"""A recording's properties, ids and statuses in OpenVidu's vocabulary.

Field meanings and defaults: ``openvidu-documents.md`` §1.8 and §6 (OpenVidu
``RecordingProperties``): resolution, frame rate and layout only mean something for a composed
recording with video, so only such a recording reports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from simulator.scenario.model import StartRecordingStep


class OutputMode(StrEnum):
    INDIVIDUAL = "INDIVIDUAL"
    COMPOSED = "COMPOSED"


class RecordingStatus(StrEnum):
    """The statuses OpenVidu's ``recordingStatusChanged`` carries (``starting`` is never sent)."""

    STARTED = "started"
    STOPPED = "stopped"
    READY = "ready"
    FAILED = "failed"


class RecordingError(RuntimeError):
    """A recording could not be started or stopped (the room is not recording, already is...)."""


def parse_resolution(text: str) -> tuple[int, int]:
    """``"1280x720"`` -> ``(1280, 720)``; both even, as yuv420p needs."""
    try:
        width_text, height_text = text.lower().split("x")
        width, height = int(width_text), int(height_text)
    except ValueError:
        raise ValueError(f"resolution {text!r} is not WIDTHxHEIGHT") from None
    if width < 2 or height < 2 or width % 2 or height % 2:
        raise ValueError(f"resolution {text!r} needs even sizes of at least 2")
    return width, height


def recording_id(session_id: str, serial: int) -> str:
    """OpenVidu's ids: the session id for a session's first recording, then ``<id>-1``, ..."""
    return session_id if serial == 0 else f"{session_id}-{serial}"


@dataclass(frozen=True)
class RecordingOptions:
    """OpenVidu's ``RecordingProperties`` (defaults from §6)."""

    name: str = ""
    output_mode: OutputMode = OutputMode.COMPOSED
    has_audio: bool = True
    has_video: bool = True
    resolution: str = "1280x720"
    frame_rate: int = 25
    recording_layout: str = "BEST_FIT"

    def __post_init__(self) -> None:
        if not self.has_audio and not self.has_video:
            raise ValueError("a recording needs audio, video or both")
        if not 1 <= self.frame_rate <= 60:
            raise ValueError(f"frame rate {self.frame_rate} is outside 1..60")
        parse_resolution(self.resolution)

    @classmethod
    def from_step(cls, step: StartRecordingStep) -> RecordingOptions:
        return cls(
            name=step.name,
            output_mode=OutputMode(step.output_mode),
            has_audio=step.has_audio,
            has_video=step.has_video,
            resolution=step.resolution,
            frame_rate=step.frame_rate,
            recording_layout=step.recording_layout,
        )

    @property
    def size(self) -> tuple[int, int]:
        return parse_resolution(self.resolution)

    @property
    def composed_video(self) -> bool:
        return self.output_mode is OutputMode.COMPOSED and self.has_video

    def fields(self) -> dict[str, Any]:
        """The properties as OpenVidu's recording event fields (camelCase is OpenVidu's)."""
        out: dict[str, Any] = {
            "name": self.name,
            "outputMode": self.output_mode.value,
            "hasAudio": self.has_audio,
            "hasVideo": self.has_video,
        }
        if self.composed_video:
            out.update(
                resolution=self.resolution,
                frameRate=self.frame_rate,
                recordingLayout=self.recording_layout,
            )
        return out
