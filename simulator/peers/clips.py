"""The pre-encoded clips cheap publishers loop: made once with PyAV, cached on disk and in memory.

A clip is a few seconds of the same sweep (video, VP8 in IVF) or tone (audio, Opus in Ogg) the
live tracks send. Clips live in ``<cache_dir>/clips`` (never in the repository), named by codec,
size, rate, bitrate, temporal layering and key frame spacing, so a change of any of them makes
a new file instead of reusing a stale one.

* **Key frames.** A browser sends a key frame when asked (PLI/FIR), not on a timer, so a video
  clip has exactly one, its first frame: a cheap publisher restarts the loop there when Janus
  asks (``simulator.peers.cheap``). A subscriber that joined mid-loop then waits for Janus's PLI,
  not for the loop to come round.
* **Bitrate.** The plain sweep compresses to about 260 kbit/s at 640x480 whatever the encoder is
  told; a clip made for a ``bitrate_bps`` gets a band of seeded noise at its top, sized so the
  encoder has to spend about that many bits (noise does not compress: ~1.7 bit per noisy pixel
  and frame at ``cpu-used=8``). When an encoding misses by more than 10 % the band is searched
  (a few encodings at most, made once per clip).
* **Temporal layers** (simulcast clips): libvpx's 3-layer pattern (``ts_layering_mode=3``,
  TID 0, 2, 1, 2) with error resilience on, so a frame never depends on one of a higher layer
  nor on entropy state a dropped frame would have carried (without it, dropping the top layer
  leaves the rest undecodable; measured here). Frame ``i`` of such a clip is in temporal layer
  ``simulcast.layers.temporal_id(i)``.
"""

from __future__ import annotations

import fractions
import math
import os
import random
import tempfile
import threading
from functools import lru_cache
from pathlib import Path

import av

from simulator.peers import vp8
from simulator.peers.tracks import (
    AUDIO_PTIME_S,
    AUDIO_RATE_HZ,
    SWEEP_FRAMES,
    _sweep_planes,
    _tone_second,
)
from simulator.peers.vp8 import TEMPORAL_PATTERN, TEMPORAL_SHARES
from simulator.settings import Settings

CLIP_SECONDS = 4
VIDEO_BITRATE_BPS = 800_000
AUDIO_BITRATE_BPS = 32_000
NOISE_BITS_PER_PIXEL = 1.7  # what libvpx (realtime, cpu-used 8) spends on a pixel of noise
RATE_TOLERANCE = 0.10
RATE_ATTEMPTS = 6


def default_clips_dir() -> Path:
    """``<cache_dir>/clips`` of the settings in force (environment, ``rtcsim.toml``)."""
    return Settings().cache_dir / "clips"


def video_clip(
    clips_dir: Path,
    width: int,
    height: int,
    fps: int,
    bitrate_bps: int | None = None,
    *,
    temporal_layers: bool = False,
) -> tuple[bytes, ...]:
    """VP8 frames of the sweep, one key frame first. ``bitrate_bps``: about that bitrate (a
    noise band); None: the plain sweep. ``temporal_layers``: three VP8 temporal layers."""
    name = f"vp8-{width}x{height}-{fps}"
    if bitrate_bps is not None:
        name += f"-{bitrate_bps // 1000}k"
    if temporal_layers:
        name += "-t3"
    name += f"-kf{CLIP_SECONDS}s"
    return _load_clip(clips_dir / f"{name}.ivf", width, height, fps, bitrate_bps, temporal_layers)


def audio_clip(clips_dir: Path) -> tuple[bytes, ...]:
    """Opus packets of the tone, 20 ms each."""
    return _load_clip(clips_dir / "opus-48000-mono.ogg", 0, 0, 0)


def keyframe_indices(frames: tuple[bytes, ...]) -> tuple[int, ...]:
    return tuple(i for i, frame in enumerate(frames) if vp8.is_keyframe(frame))


def clip_bitrate_bps(frames: tuple[bytes, ...], fps: int) -> float:
    """The average bitrate of a video clip played at ``fps``."""
    return sum(len(f) for f in frames) * 8 * fps / max(1, len(frames))


_making = threading.Lock()  # users starting together make a clip once, not once each


@lru_cache(maxsize=32)
def _load_clip(
    path: Path,
    width: int,
    height: int,
    fps: int,
    bitrate_bps: int | None = None,
    temporal_layers: bool = False,
) -> tuple[bytes, ...]:
    with _making:
        if not path.exists():
            _make_clip(path, width, height, fps, bitrate_bps, temporal_layers)
    with av.open(str(path)) as container:
        packets = tuple(bytes(p) for p in container.demux() if p.size)
    if not packets:
        raise RuntimeError(f"clip {path} holds no packets")
    return packets


def _make_clip(
    path: Path,
    width: int,
    height: int,
    fps: int,
    bitrate_bps: int | None,
    temporal_layers: bool,
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write beside, then rename: concurrent makers (locust workers) never read half a file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=path.suffix)
    os.close(fd)
    try:
        if width:
            _encode_video_to_rate(Path(tmp), width, height, fps, bitrate_bps, temporal_layers)
        else:
            _encode_audio(Path(tmp))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def noise_rows(bitrate_bps: float, width: int, height: int, fps: int) -> int:
    return max(0, min(height, math.ceil(bitrate_bps / (width * fps * NOISE_BITS_PER_PIXEL))))


def _encode_video_to_rate(
    path: Path,
    width: int,
    height: int,
    fps: int,
    bitrate_bps: int | None,
    temporal_layers: bool,
) -> None:
    """Encode the clip with a noise band that brings it within ``RATE_TOLERANCE`` of
    ``bitrate_bps``: the rate grows with the band but not in proportion (the encoder's
    quantizer moves too), so the band is searched: a first guess from the bits-per-pixel
    model, then secant steps. The closest encoding is kept."""
    if bitrate_bps is None:
        _encode_video(path, width, height, fps, None, 0, temporal_layers)
        return
    rows = noise_rows(bitrate_bps, width, height, fps)
    slope = width * fps * NOISE_BITS_PER_PIXEL  # bit/s per noise row, until measured
    tried: list[tuple[int, float]] = []
    best: tuple[float, int] | None = None
    for _attempt in range(RATE_ATTEMPTS):
        measured = _encode_video(path, width, height, fps, bitrate_bps, rows, temporal_layers)
        miss = abs(measured - bitrate_bps)
        if best is None or miss < best[0]:
            best = (miss, rows)
        if miss <= RATE_TOLERANCE * bitrate_bps:
            return
        tried.append((rows, measured))
        if len(tried) > 1:
            (r0, m0), (r1, m1) = tried[-2], tried[-1]
            if r1 != r0 and (m1 - m0) / (r1 - r0) > 0:
                slope = (m1 - m0) / (r1 - r0)
        guess = rows + (bitrate_bps - measured) / slope
        guess = min(max(guess, rows / 2), rows * 2 + 1)  # no wild steps on a flat stretch
        next_rows = max(0, min(height, round(guess)))
        if next_rows == rows:
            break
        rows = next_rows
    if best is not None and best[1] != rows:
        _encode_video(path, width, height, fps, bitrate_bps, best[1], temporal_layers)


def _encoder_options(bitrate_bps: int, temporal_layers: bool) -> dict[str, str]:
    options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    if temporal_layers:
        options.update(temporal_layer_options(bitrate_bps))
    return options


def temporal_layer_options(bitrate_bps: int) -> dict[str, str]:
    """libvpx options (through FFmpeg) for three VP8 temporal layers at ``bitrate_bps``."""
    kbps = max(3, bitrate_bps // 1000)
    targets = ",".join(str(max(1, int(kbps * share))) for share in TEMPORAL_SHARES)
    pattern = ",".join(str(tid) for tid in TEMPORAL_PATTERN)
    return {
        "error-resilient": "default",
        # ts_layering_mode must come last: FFmpeg applies the preset when it reads it.
        "ts-parameters": (
            f"ts_number_layers=3:ts_target_bitrate={targets}:ts_rate_decimator=4,2,1:"
            f"ts_periodicity={len(TEMPORAL_PATTERN)}:ts_layer_id={pattern}:ts_layering_mode=3"
        ),
    }


def _encode_video(
    path: Path,
    width: int,
    height: int,
    fps: int,
    bitrate_bps: int | None,
    noise_rows: int,
    temporal_layers: bool,
) -> float:
    """Encode the clip; returns its measured bitrate."""
    frames = fps * CLIP_SECONDS
    total = 0
    with av.open(str(path), "w", format="ivf") as container:
        stream = container.add_stream(
            "libvpx",
            rate=fps,
            options=_encoder_options(bitrate_bps or VIDEO_BITRATE_BPS, temporal_layers),
        )
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.bit_rate = bitrate_bps or VIDEO_BITRATE_BPS
        stream.codec_context.gop_size = frames + 1  # the first frame is the only key frame
        stream.codec_context.thread_count = 1  # libvpx's threads cost more than they save here
        for index in range(frames):
            for packet in stream.encode(sweep_frame(width, height, fps, index, noise_rows)):
                total += packet.size
                container.mux(packet)
        for packet in stream.encode(None):
            total += packet.size
            container.mux(packet)
    return total * 8 / CLIP_SECONDS


def sweep_frame(
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
