"""Synthetic media a publisher sends, cheap to make and not trivially compressible.

A static frame compresses to almost nothing, which would hide bitrate and loss behaviour, so
the video is a bar sweeping over a gradient and the audio a 440 Hz tone. Frames are prepared
once per size and copied per tick; the encoder still runs live (it honours PLI/FIR as a
browser does).
"""

from __future__ import annotations

import asyncio
import fractions
import math
import time
from functools import lru_cache

from aiortc.mediastreams import MediaStreamTrack
from av import AudioFrame, VideoFrame

from simulator.peers.talk import Slot, TalkSchedule

VIDEO_CLOCK_HZ = 90_000
AUDIO_RATE_HZ = 48_000
AUDIO_PTIME_S = 0.020
SWEEP_FRAMES = 60
TONE_AMPLITUDE = 8000
TONE_LEVEL = round(-20 * math.log10(TONE_AMPLITUDE / math.sqrt(2) / 32767))
"""The tone's RFC 6464 audio level (-dBov of its RMS): 15, a voice speaking up."""


@lru_cache(maxsize=8)
def _sweep_planes(width: int, height: int) -> tuple[tuple[bytes, bytes, bytes], ...]:
    """YUV420 planes of a bar sweeping left to right over a horizontal gradient."""
    gradient = bytes((x * 200) // max(width - 1, 1) + 16 for x in range(width))
    chroma_size = (width // 2) * (height // 2)
    u_plane = bytes([128]) * chroma_size
    v_plane = bytes([128]) * chroma_size
    bar = max(width // 16, 2)
    planes = []
    for i in range(SWEEP_FRAMES):
        start = (i * width) // SWEEP_FRAMES
        row = bytearray(gradient)
        row[start : start + bar] = bytes([235]) * len(row[start : start + bar])
        planes.append((bytes(row) * height, u_plane, v_plane))
    return tuple(planes)


class SweepVideoTrack(MediaStreamTrack):
    """Video at a fixed size and rate; counts the frames it hands to the encoder."""

    kind = "video"

    def __init__(self, width: int = 640, height: int = 480, fps: int = 30) -> None:
        super().__init__()
        self.width, self.height, self.fps = width, height, fps
        self.frames_sent = 0
        self._planes = _sweep_planes(width, height)
        self._black = _black_planes(width, height)
        self._start: float | None = None
        self.muted = False

    async def recv(self) -> VideoFrame:
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + self.frames_sent / self.fps
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        frame = VideoFrame(width=self.width, height=self.height, format="yuv420p")
        planes = self._black if self.muted else self._planes[self.frames_sent % SWEEP_FRAMES]
        for plane, data in zip(frame.planes, planes, strict=True):
            plane.update(data)
        frame.pts = self.frames_sent * VIDEO_CLOCK_HZ // self.fps
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK_HZ)
        self.frames_sent += 1
        return frame


@lru_cache(maxsize=8)
def _black_planes(width: int, height: int) -> tuple[bytes, bytes, bytes]:
    """What a browser sends for a disabled camera track: black frames, still at full rate."""
    chroma = bytes([128]) * ((width // 2) * (height // 2))
    return bytes([16]) * (width * height), chroma, chroma


@lru_cache(maxsize=1)
def _tone_second(freq_hz: int = 440) -> bytes:
    """One second of a mono s16 tone; 440 whole cycles, so it loops without a click."""
    samples = (
        int(TONE_AMPLITUDE * math.sin(2 * math.pi * freq_hz * n / AUDIO_RATE_HZ))
        for n in range(AUDIO_RATE_HZ)
    )
    return b"".join(s.to_bytes(2, "little", signed=True) for s in samples)


class ToneAudioTrack(MediaStreamTrack):
    """Opus-friendly audio: a steady tone in 20 ms frames; with ``talk``, the tone in talk
    spurts and silence between them, one frame every 400 ms as with DTX (``peers.talk``)."""

    kind = "audio"

    def __init__(self, talk: TalkSchedule | None = None) -> None:
        super().__init__()
        self.frames_sent = 0
        self.talk = talk
        self._second = _tone_second()
        self._samples = int(AUDIO_RATE_HZ * AUDIO_PTIME_S)
        self._silence = bytes(self._samples * 2)
        self._start: float | None = None
        self._slot = 0
        self.muted = False

    async def recv(self) -> AudioFrame:
        if self._start is None:
            self._start = time.monotonic()
            if self.talk is not None:
                self.talk.begin()
        slot = self.talk.slot(self._slot) if self.talk is not None else Slot.SPEECH
        while slot is Slot.NOTHING:
            self._slot += 1
            slot = self.talk.slot(self._slot) if self.talk is not None else Slot.SPEECH
        due = self._start + self._slot * AUDIO_PTIME_S
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        frame = AudioFrame(format="s16", layout="mono", samples=self._samples)
        offset = (self._slot % 50) * self._samples * 2
        quiet = self.muted or slot is Slot.COMFORT
        chunk = self._silence if quiet else self._second[offset : offset + self._samples * 2]
        frame.planes[0].update(chunk)
        frame.pts = self._slot * self._samples
        frame.sample_rate = AUDIO_RATE_HZ
        frame.time_base = fractions.Fraction(1, AUDIO_RATE_HZ)
        self._slot += 1
        self.frames_sent += 1
        return frame
