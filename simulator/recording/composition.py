"""COMPOSED recordings with PyAV: every video in a best-fit grid, every audio mixed, one WebM.

Output: VP8 (``libvpx``) at the requested resolution and frame rate, Opus (``libopus``, 48 kHz
stereo). Both encoders are in the PyAV wheel here; there is no numpy, so the grid is drawn by
copying yuv420p rows into the output frame's planes and the audio is summed as 16-bit samples.

Timing: each track starts at its offset from the recording's start (the ``.mjr`` header's first
packet time), holds its last frame between frames, and leaves the grid when it ends, as a stream
that unpublishes leaves OpenVidu's layout. The output lasts exactly ``duration_s``, the
recording's own duration, with black video and silence where nobody was published.
"""

from __future__ import annotations

import logging
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from av.audio.resampler import AudioResampler
from av.container import InputContainer, OutputContainer

from simulator.recording.conversion import Track
from simulator.recording.layout import Tile, best_fit

log = logging.getLogger(__name__)

SAMPLE_RATE = 48_000
CHANNELS = 2
AUDIO_FRAME_SAMPLES = 960  # 20 ms, libopus's default frame
VIDEO_BITRATE_BPS = 2_000_000
BLACK_YUV = (16, 128, 128)  # limited-range black


@dataclass(frozen=True)
class Canvas:
    width: int
    height: int
    frame_rate: int


class _VideoSource:
    """A decoded video track on the recording's clock, frame held until the next is due."""

    def __init__(self, track: Track) -> None:
        self.track = track
        self._container: InputContainer = av.open(str(track.path))
        self._frames: Iterator[av.VideoFrame] = self._decode()
        self._pending: av.VideoFrame | None = None
        self.current: av.VideoFrame | None = None
        self._done = False
        self.skipped = 0

    def _decode(self) -> Iterator[av.VideoFrame]:
        """Frames in order; a packet the decoder refuses is skipped. A recording that starts
        mid-stream begins with inter frames the decoder cannot use until the next keyframe."""
        for packet in self._container.demux(video=0):
            try:
                frames = packet.decode()
            except av.error.InvalidDataError:
                self.skipped += 1
                continue
            for frame in frames:
                assert isinstance(frame, av.VideoFrame)
                yield frame

    def at(self, t_s: float) -> av.VideoFrame | None:
        """The frame shown at ``t_s``, or ``None`` when the track is not on screen then."""
        if t_s < self.track.offset_s or t_s >= self.track.end_s:
            return None
        while not self._done:
            if self._pending is None:
                try:
                    self._pending = next(self._frames)
                except StopIteration:
                    self._done = True
                    break
            due = self.track.offset_s + float(self._pending.time or 0.0)
            if due > t_s:
                break
            self.current, self._pending = self._pending, None
        return self.current

    def close(self) -> None:
        self._container.close()


def _blank(frame: av.VideoFrame) -> None:
    for plane, value in zip(frame.planes, BLACK_YUV, strict=True):
        plane.update(bytes([value]) * plane.buffer_size)


def _blit(dst: av.VideoFrame, src: av.VideoFrame, tile: Tile) -> None:
    """Copy ``src`` (already ``tile``-sized yuv420p) into ``dst`` at the tile's place."""
    for index, (dst_plane, src_plane) in enumerate(zip(dst.planes, src.planes, strict=True)):
        shift = 0 if index == 0 else 1
        dst_mem = memoryview(dst_plane)
        src_mem = memoryview(src_plane)
        dst_stride, src_stride = dst_plane.line_size, src_plane.line_size
        width, height = tile.width >> shift, tile.height >> shift
        x, y = tile.x >> shift, tile.y >> shift
        for row in range(height):
            at = (y + row) * dst_stride + x
            dst_mem[at : at + width] = src_mem[row * src_stride : row * src_stride + width]


def _render(sources: list[_VideoSource], canvas: Canvas, t_s: float) -> av.VideoFrame:
    frame = av.VideoFrame(canvas.width, canvas.height, "yuv420p")
    _blank(frame)
    shown = [(s, f) for s in sources if (f := s.at(t_s)) is not None]
    tiles = best_fit([(f.width, f.height) for _s, f in shown], (canvas.width, canvas.height))
    for (_source, picture), tile in zip(shown, tiles, strict=True):
        scaled = picture.reformat(
            width=tile.width, height=tile.height, format="yuv420p", interpolation="FAST_BILINEAR"
        )
        _blit(frame, scaled, tile)
    return frame


def mix_audio(tracks: list[Track], duration_s: float) -> array[int]:
    """Every audio track decoded to 48 kHz stereo s16, placed at its offset, summed, clipped."""
    total = round(duration_s * SAMPLE_RATE) * CHANNELS
    if len(tracks) == 1:
        mixed = array("h", bytes(2 * total))
        _place(mixed, tracks[0])
        return mixed
    wide = array("i", bytes(4 * total))
    for track in tracks:
        _place(wide, track)
    return array("h", (32767 if v > 32767 else -32768 if v < -32768 else v for v in wide))


def _place(out: array[int], track: Track) -> None:
    """Add ``track``'s samples into ``out`` from its offset, cut at ``out``'s end."""
    resampler = AudioResampler(format="s16", layout="stereo", rate=SAMPLE_RATE)
    at = round(track.offset_s * SAMPLE_RATE) * CHANNELS
    with av.open(str(track.path)) as container:
        for decoded in container.decode(audio=0):
            for frame in resampler.resample(decoded):
                samples = array("h", bytes(frame.planes[0])[: frame.samples * CHANNELS * 2])
                end = min(len(out), at + len(samples))
                if end <= at:
                    return
                if out.typecode == "h":
                    out[at:end] = samples[: end - at]
                else:
                    for i in range(at, end):
                        out[i] += samples[i - at]
                at = end


def compose(
    video: list[Track],
    audio: list[Track],
    target: Path,
    *,
    canvas: Canvas | None,
    duration_s: float,
) -> None:
    """Write ``target`` (WebM): the grid of ``video`` if ``canvas`` is given, ``audio`` mixed if
    any audio track is given; with neither, nothing is written and ``ValueError`` is raised."""
    if canvas is None and not audio:
        raise ValueError("a composed recording needs a canvas, audio, or both")
    target.parent.mkdir(parents=True, exist_ok=True)
    mixed = mix_audio(audio, duration_s) if audio else None
    sources = [_VideoSource(track) for track in video] if canvas is not None else []
    try:
        with av.open(str(target), "w", format="webm") as out:
            _encode(out, sources, canvas, mixed, duration_s)
    finally:
        for source in sources:
            source.close()


def _encode(
    out: OutputContainer,
    sources: list[_VideoSource],
    canvas: Canvas | None,
    mixed: array[int] | None,
    duration_s: float,
) -> None:
    video_stream = None
    if canvas is not None:
        video_stream = out.add_stream(
            "libvpx", rate=canvas.frame_rate, options={"deadline": "realtime", "cpu-used": "8"}
        )
        video_stream.width, video_stream.height = canvas.width, canvas.height
        video_stream.pix_fmt = "yuv420p"
        video_stream.bit_rate = VIDEO_BITRATE_BPS
        video_stream.codec_context.thread_count = 1  # measured: libvpx threads only slow it here
        video_stream.codec_context.time_base = Fraction(1, canvas.frame_rate)
    audio_stream = None
    if mixed is not None:
        audio_stream = out.add_stream("libopus", rate=SAMPLE_RATE)
        audio_stream.layout = "stereo"
        audio_stream.format = "s16"
    frames = round(duration_s * canvas.frame_rate) if canvas is not None else 0
    samples_total = len(mixed) // CHANNELS if mixed is not None else 0
    sample_at = 0
    frame_index = 0
    while frame_index < frames or sample_at < samples_total:
        video_t = frame_index / canvas.frame_rate if canvas is not None else float("inf")
        audio_t = sample_at / SAMPLE_RATE if sample_at < samples_total else float("inf")
        if frame_index < frames and video_t <= audio_t and canvas and video_stream:
            frame = _render(sources, canvas, video_t)
            frame.pts = frame_index
            frame.time_base = Fraction(1, canvas.frame_rate)
            out.mux(video_stream.encode(frame))
            frame_index += 1
        elif mixed is not None and audio_stream is not None:
            count = min(AUDIO_FRAME_SAMPLES, samples_total - sample_at)
            chunk = mixed[sample_at * CHANNELS : (sample_at + count) * CHANNELS]
            if count < AUDIO_FRAME_SAMPLES:  # the last frame is padded (< 20 ms)
                chunk.extend([0] * (AUDIO_FRAME_SAMPLES - count) * CHANNELS)
            aframe = av.AudioFrame(format="s16", layout="stereo", samples=AUDIO_FRAME_SAMPLES)
            aframe.planes[0].update(chunk.tobytes())
            aframe.sample_rate = SAMPLE_RATE
            aframe.pts = sample_at
            aframe.time_base = Fraction(1, SAMPLE_RATE)
            out.mux(audio_stream.encode(aframe))
            sample_at += count
    if video_stream is not None:
        out.mux(video_stream.encode(None))
    if audio_stream is not None:
        out.mux(audio_stream.encode(None))
