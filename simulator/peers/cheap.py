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
  swaps that queue for one that counts the frame and its bytes and drops it: SRTP, the jitter
  buffer, NACK, PLI and RTCP receiver reports still run, nothing is decoded or queued.

Clips live in ``<cache_dir>/clips`` (never in the repository), keyed by codec, size and rate.
"""

from __future__ import annotations

import asyncio
import fractions
import os
import queue
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


def video_clip(clips_dir: Path, width: int, height: int, fps: int) -> tuple[bytes, ...]:
    """VP8 packets of the sweep, made on first use and cached on disk and in memory."""
    return _load_clip(clips_dir / f"vp8-{width}x{height}-{fps}.ivf", width, height, fps)


def audio_clip(clips_dir: Path) -> tuple[bytes, ...]:
    """Opus packets of the tone, 20 ms each."""
    return _load_clip(clips_dir / "opus-48000-mono.ogg", 0, 0, 0)


_making = threading.Lock()  # users starting together make a clip once, not once each


@lru_cache(maxsize=16)
def _load_clip(path: Path, width: int, height: int, fps: int) -> tuple[bytes, ...]:
    with _making:
        if not path.exists():
            _make_clip(path, width, height, fps)
    with av.open(str(path)) as container:
        packets = tuple(bytes(p) for p in container.demux() if p.size)
    if not packets:
        raise RuntimeError(f"clip {path} holds no packets")
    return packets


def _make_clip(path: Path, width: int, height: int, fps: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write beside, then rename: concurrent makers (locust workers) never read half a file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=path.suffix)
    os.close(fd)
    try:
        if width:
            _encode_video(Path(tmp), width, height, fps)
        else:
            _encode_audio(Path(tmp))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _encode_video(path: Path, width: int, height: int, fps: int) -> None:
    with av.open(str(path), "w", format="ivf") as container:
        stream = container.add_stream(
            "libvpx",
            rate=fps,
            options={"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"},
        )
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.bit_rate = VIDEO_BITRATE_BPS
        stream.codec_context.gop_size = fps * KEYFRAME_INTERVAL_S
        for index in range(fps * CLIP_SECONDS):
            frame = _sweep_frame(width, height, fps, index)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def _sweep_frame(width: int, height: int, fps: int, index: int) -> av.VideoFrame:
    frame = av.VideoFrame(width=width, height=height, format="yuv420p")
    planes = _sweep_planes(width, height)[index % SWEEP_FRAMES]
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


def packet_video_track(clips_dir: Path, width: int, height: int, fps: int) -> PacketTrack:
    return PacketTrack("video", video_clip(clips_dir, width, height, fps), 1 / fps, VIDEO_CLOCK_HZ)


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


# -- subscriber -------------------------------------------------------------------------------
class CountingQueue(queue.Queue[Any]):
    """Stands in for a receiver's decoder queue: counts each reassembled frame, decodes none.

    aiortc puts ``(codec, JitterFrame)`` per complete frame (one per RTP timestamp, closed by
    the marker bit for video; one per packet for Opus) from the event loop, and ``None`` on
    stop, which still reaches the idle decoder thread so the track ends as usual.
    """

    def __init__(self, on_frame: Callable[[int], None]) -> None:
        super().__init__()
        self._on_frame = on_frame

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is None:
            super().put(item, block, timeout)
            return
        _codec, frame = item
        self._on_frame(len(frame.data))


def count_frames(pc: RTCPeerConnection, on_frame: Callable[[str, int], None]) -> None:
    """Make every receiver of ``pc`` count instead of decode; call between
    ``setRemoteDescription`` and the connection coming up (the decoder thread takes its queue
    when the receiver starts). ``on_frame(kind, nbytes)`` runs on the event loop."""
    for transceiver in pc.getTransceivers():
        receiver = transceiver.receiver
        kind = transceiver.kind

        def counted(nbytes: int, kind: str = kind) -> None:
            on_frame(kind, nbytes)

        # aiortc has no hook for this; the attribute is the receiver's private decoder queue.
        if not hasattr(receiver, "_RTCRtpReceiver__decoder_queue"):
            raise RuntimeError("this aiortc has no RTCRtpReceiver decoder queue to replace")
        receiver._RTCRtpReceiver__decoder_queue = CountingQueue(counted)
