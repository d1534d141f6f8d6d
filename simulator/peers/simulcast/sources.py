"""Where a simulcast layer's frames come from: a pre-encoded clip (cheap) or an encoder (live).

Both give, per camera frame, the VP8 frame of that layer, its temporal layer and whether it is a
layer sync point (RFC 7741 §4.2 Y bit: in the TID 0, 2, 1, 2 pattern only the second TID 2
frame refers to a frame above the base), and both answer a key frame request on the next frame.

* ``ClipLayerSource`` loops the layer's clip (``simulator.peers.clips``, three temporal layers,
  one key frame first); a request jumps to the key frame, i.e. restarts the loop.
* ``EncoderLayerSource`` encodes the sweep at the layer's size with libvpx through PyAV, three
  temporal layers, at the layer's bitrate; a request forces a key frame. It is the live
  publisher's per-layer encoder; ``cpu-used=8`` (libvpx's fastest realtime setting) keeps three
  encoders per publisher affordable.
"""

from __future__ import annotations

import fractions
import time
from collections.abc import Callable
from typing import Protocol

import av
from av.video.codeccontext import VideoCodecContext

from simulator.peers import clips
from simulator.peers.simulcast.layers import TEMPORAL_PATTERN, Layer, temporal_id
from simulator.peers.tracks import _black_planes
from simulator.peers.vp8 import is_keyframe

SYNC_BREAKER = len(TEMPORAL_PATTERN) - 1  # the TID 2 frame that refers to the TID 1 frame


class LayerSource(Protocol):
    keyframe_requests: int
    keyframe_answer_max_s: float | None
    keyframe_answer_max_frames: int | None

    def request_keyframe(self) -> None: ...

    def next_frame(self, muted: bool) -> tuple[bytes, int, bool]:
        """(VP8 frame, temporal layer, layer sync) of the next camera frame."""
        ...


class _KeyframeBookkeeping:
    def __init__(self, clock: Callable[[], float]) -> None:
        self.keyframe_requests = 0
        self.keyframe_answer_max_s: float | None = None
        self.keyframe_answer_max_frames: int | None = None
        """Frames between a request and its key frame: 0, the next frame is the answer."""
        self._clock = clock
        self._asked_at: float | None = None
        self._asked_frame = 0
        self._made = 0

    def request_keyframe(self) -> None:
        self.keyframe_requests += 1
        if self._asked_at is None:
            self._asked_at = self._clock()
            self._asked_frame = self._made

    def _take_request(self) -> bool:
        """Called once per frame made: whether this one must be a key frame."""
        self._made += 1
        if self._asked_at is None:
            return False
        waited = self._clock() - self._asked_at
        self.keyframe_answer_max_s = max(self.keyframe_answer_max_s or 0.0, waited)
        between = self._made - 1 - self._asked_frame
        self.keyframe_answer_max_frames = max(self.keyframe_answer_max_frames or 0, between)
        self._asked_at = None
        return True


class ClipLayerSource(_KeyframeBookkeeping):
    def __init__(
        self, frames: tuple[bytes, ...], clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(clock)
        if len(frames) % len(TEMPORAL_PATTERN):
            raise ValueError("a layer clip must hold whole temporal patterns")
        self._frames = frames
        self._keyframes = clips.keyframe_indices(frames)
        if not self._keyframes:
            raise ValueError("a layer clip needs a key frame")
        self._position = 0

    def next_frame(self, muted: bool) -> tuple[bytes, int, bool]:
        if self._take_request():
            here = self._position % len(self._frames)
            later = [k for k in self._keyframes if k >= here]
            self._position = later[0] if later else self._keyframes[0] + len(self._frames)
        index = self._position % len(self._frames)
        self._position += 1
        return (
            self._frames[index],
            temporal_id(index),
            index % len(TEMPORAL_PATTERN) != SYNC_BREAKER,
        )


class EncoderLayerSource(_KeyframeBookkeeping):
    def __init__(self, layer: Layer, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(clock)
        self.layer = layer
        self._codec: VideoCodecContext = av.CodecContext.create("libvpx", "w")
        self._codec.width, self._codec.height = layer.width, layer.height
        self._codec.pix_fmt = "yuv420p"
        self._codec.time_base = fractions.Fraction(1, layer.fps)
        self._codec.framerate = fractions.Fraction(layer.fps, 1)
        self._codec.bit_rate = layer.bitrate_bps
        self._codec.gop_size = 1 << 30  # key frames when asked, as a browser
        # One thread per encoder (layers run in parallel instead): libvpx's own threads meet
        # every frame, and on a busy machine that wait cost ten times the encoding (measured).
        self._codec.thread_count = 1
        self._codec.options = {
            "deadline": "realtime",
            "cpu-used": "8",
            "lag-in-frames": "0",
            **clips.temporal_layer_options(layer.bitrate_bps),
        }
        # The clips' content (sweep and noise band), so live and cheap layers cost alike.
        self._noise_rows = clips.noise_rows(layer.bitrate_bps, layer.width, layer.height, layer.fps)
        self._black = _black_planes(layer.width, layer.height)
        self._index = 0

    def next_frame(self, muted: bool) -> tuple[bytes, int, bool]:
        """Encode one frame (blocking: run it off the event loop)."""
        layer = self.layer
        frame = clips.sweep_frame(
            layer.width, layer.height, layer.fps, self._index, self._noise_rows
        )
        if muted:
            for plane, data in zip(frame.planes, self._black, strict=True):
                plane.update(data)
        if self._take_request():
            frame.pict_type = av.video.frame.PictureType.I
        data = b"".join(bytes(p) for p in self._codec.encode(frame))
        position = self._index % len(TEMPORAL_PATTERN)
        self._index += 1
        tid = 0 if is_keyframe(data) else TEMPORAL_PATTERN[position]
        return data, tid, position != SYNC_BREAKER

    def close(self) -> None:
        self._codec = None  # type: ignore[assignment]
