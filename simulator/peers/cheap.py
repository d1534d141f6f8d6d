"""Cheap media for load: publishers that send pre-encoded packets, subscribers that never decode.

A live peer costs ~0.1 core per VP8 publisher (encoding) and ~0.05 per subscriber (decoding);
these cost ~0.01 each (``reference/aiortc-perf.md``), so one process holds tens of them.

* **Publisher.** ``RTCRtpSender._next_encoded_frame`` packs, without encoding, whatever
  ``track.recv()`` returns that is an ``av.Packet`` rather than a frame (aiortc-perf.md,
  finding 3). ``PacketTrack`` loops a clip made once with PyAV from the same sweep and tone as
  the live tracks, with RTP timestamps that keep increasing across loops. It cannot honour
  PLI/FIR, so the clip has a keyframe every second: a late or lossy subscriber recovers within
  one. Its bitrate is the clip's; REMB is ignored.
* **Subscriber.** aiortc hands each reassembled frame to a decoder thread through a
  ``queue.Queue`` and queues the decoded frames without bound (finding 1). ``count_frames``
  swaps that queue for one that never fills, and the receiver's per-packet handler for one that
  counts frames (marker bits) and bytes: SRTP, RTX, NACK and RTCP receiver reports still run;
  nothing is depayloaded, buffered, estimated (REMB) or decoded. ``drain_sockets`` reads every
  waiting datagram per wake-up (asyncio reads one).

Clips live in ``<cache_dir>/clips`` (never in the repository), keyed by codec, size, rate and
(when asked) bitrate. The plain sweep compresses to about 260 kbit/s whatever the encoder is told;
a clip made for a ``bitrate_bps`` gets a band of seeded noise at its top, sized so the encoder has
to spend about that many bits (noise does not compress: ~1.7 bit per noisy pixel and frame at
``cpu-used=8``), e.g. ~1 Mbit/s at 640x480@30 for the benchmarks.
"""

from __future__ import annotations

import asyncio
import fractions
import math
import os
import random
import tempfile
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import av
from aiortc import RTCPeerConnection, RTCRtpSender
from aiortc.mediastreams import MediaStreamTrack

from simulator.peers.cheap_receive import CountingQueue, count_frames, drain_sockets
from simulator.peers.tracks import (
    AUDIO_PTIME_S,
    AUDIO_RATE_HZ,
    SWEEP_FRAMES,
    VIDEO_CLOCK_HZ,
    _sweep_planes,
    _tone_second,
)
from simulator.settings import Settings

Media = Literal["live", "cheap"]
CLIP_SECONDS = 4
KEYFRAME_INTERVAL_S = 1
VIDEO_BITRATE_BPS = 800_000
AUDIO_BITRATE_BPS = 32_000


# -- clips ------------------------------------------------------------------------------------
def default_clips_dir() -> Path:
    """``<cache_dir>/clips`` of the settings in force (environment, ``rtcsim.toml``)."""
    return Settings().cache_dir / "clips"


NOISE_BITS_PER_PIXEL = 1.7  # what libvpx (realtime, cpu-used 8) spends on a pixel of noise


def video_clip(
    clips_dir: Path, width: int, height: int, fps: int, bitrate_bps: int | None = None
) -> tuple[bytes, ...]:
    """VP8 packets of the sweep, made on first use and cached on disk and in memory.
    ``bitrate_bps``: about that bitrate (a noise band); None: the plain sweep (~260 kbit/s)."""
    name = f"vp8-{width}x{height}-{fps}"
    if bitrate_bps is not None:
        name += f"-{bitrate_bps // 1000}k"
    return _load_clip(clips_dir / f"{name}.ivf", width, height, fps, bitrate_bps)


def audio_clip(clips_dir: Path) -> tuple[bytes, ...]:
    """Opus packets of the tone, 20 ms each."""
    return _load_clip(clips_dir / "opus-48000-mono.ogg", 0, 0, 0)


_making = threading.Lock()  # users starting together make a clip once, not once each


@lru_cache(maxsize=16)
def _load_clip(
    path: Path, width: int, height: int, fps: int, bitrate_bps: int | None = None
) -> tuple[bytes, ...]:
    with _making:
        if not path.exists():
            _make_clip(path, width, height, fps, bitrate_bps)
    with av.open(str(path)) as container:
        packets = tuple(bytes(p) for p in container.demux() if p.size)
    if not packets:
        raise RuntimeError(f"clip {path} holds no packets")
    return packets


def _make_clip(path: Path, width: int, height: int, fps: int, bitrate_bps: int | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write beside, then rename: concurrent makers (locust workers) never read half a file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=path.suffix)
    os.close(fd)
    try:
        if width:
            _encode_video(Path(tmp), width, height, fps, bitrate_bps)
        else:
            _encode_audio(Path(tmp))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _encode_video(
    path: Path, width: int, height: int, fps: int, bitrate_bps: int | None = None
) -> None:
    noise_rows = 0
    if bitrate_bps is not None:
        noise_rows = min(height, math.ceil(bitrate_bps / (width * fps * NOISE_BITS_PER_PIXEL)))
    with av.open(str(path), "w", format="ivf") as container:
        stream = container.add_stream(
            "libvpx",
            rate=fps,
            options={"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"},
        )
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.bit_rate = bitrate_bps or VIDEO_BITRATE_BPS
        stream.codec_context.gop_size = fps * KEYFRAME_INTERVAL_S
        for index in range(fps * CLIP_SECONDS):
            frame = _sweep_frame(width, height, fps, index, noise_rows)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def _sweep_frame(
    width: int, height: int, fps: int, index: int, noise_rows: int = 0
) -> av.VideoFrame:
    frame = av.VideoFrame(width=width, height=height, format="yuv420p")
    planes = _sweep_planes(width, height)[index % SWEEP_FRAMES]
    if noise_rows:
        # Seeded by the frame index: the same clip on every machine, new noise every frame.
        noise = random.Random(index).randbytes(noise_rows * width)
        planes = (noise + planes[0][len(noise) :], *planes[1:])
    for plane, data in zip(frame.planes, planes, strict=True):
        plane.update(data)
    frame.pts = index
    frame.time_base = fractions.Fraction(1, fps)
    return frame


def _encode_audio(path: Path) -> None:
    tone = _tone_second()
    samples = int(AUDIO_RATE_HZ * AUDIO_PTIME_S)
    with av.open(str(path), "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=AUDIO_RATE_HZ)
        stream.bit_rate = AUDIO_BITRATE_BPS
        stream.layout = "mono"
        for index in range(CLIP_SECONDS * 50):
            frame = av.AudioFrame(format="s16", layout="mono", samples=samples)
            offset = (index % 50) * samples * 2
            frame.planes[0].update(tone[offset : offset + samples * 2])
            frame.pts = index * samples
            frame.sample_rate = AUDIO_RATE_HZ
            frame.time_base = fractions.Fraction(1, AUDIO_RATE_HZ)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


# -- publisher --------------------------------------------------------------------------------
class PacketTrack(MediaStreamTrack):
    """Loops pre-encoded packets at the clip's rate; aiortc packetizes them without encoding.

    ``muted`` is kept for the mute step's sake; Janus stops relaying a muted stream (VideoRoom
    ``configure`` with ``send: false``), so the packets still sent are never seen downstream.
    """

    def __init__(
        self,
        kind: str,
        packets: tuple[bytes, ...],
        interval_s: float,
        clock_hz: int,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.kind = kind
        self.frames_sent = 0
        self.muted = False
        self._packets = packets
        self._interval_s = interval_s
        self._ticks = round(interval_s * clock_hz)
        self._time_base = fractions.Fraction(1, clock_hz)
        self._clock = clock
        self._start: float | None = None

    async def recv(self) -> av.Packet[Any]:
        if self._start is None:
            self._start = self._clock()
        due = self._start + self.frames_sent * self._interval_s
        await asyncio.sleep(max(0.0, due - self._clock()))
        packet = av.Packet(self._packets[self.frames_sent % len(self._packets)])
        # Monotonic across loops: the RTP timestamp must never jump back (finding 4).
        packet.pts = self.frames_sent * self._ticks
        packet.time_base = self._time_base
        self.frames_sent += 1
        return packet


def packet_video_track(
    clips_dir: Path, width: int, height: int, fps: int, bitrate_bps: int | None = None
) -> PacketTrack:
    packets = video_clip(clips_dir, width, height, fps, bitrate_bps)
    return PacketTrack("video", packets, 1 / fps, VIDEO_CLOCK_HZ)


def packet_audio_track(clips_dir: Path) -> PacketTrack:
    return PacketTrack("audio", audio_clip(clips_dir), AUDIO_PTIME_S, AUDIO_RATE_HZ)


def prefer_clip_codecs(pc: RTCPeerConnection) -> None:
    """Offer only the clips' codecs (VP8, Opus): a room on H.264 then fails to negotiate
    instead of receiving VP8 bytes packetized as H.264."""
    for transceiver in pc.getTransceivers():
        wanted = "video/VP8" if transceiver.kind == "video" else "audio/opus"
        codecs = RTCRtpSender.getCapabilities(transceiver.kind).codecs
        transceiver.setCodecPreferences(
            [c for c in codecs if c.mimeType == wanted or c.mimeType.endswith("/rtx")]
        )


__all__ = [
    "CountingQueue",
    "PacketTrack",
    "audio_clip",
    "count_frames",
    "drain_sockets",
    "packet_audio_track",
    "packet_video_track",
    "prefer_clip_codecs",
    "video_clip",
]
