"""The three layers a simulcast publisher sends, sized and rated as a browser sizes them.

A browser publishing simulcast (janus.js ``simulcast: true``, LiveKit's client) sends one
encoding per layer from the same camera: full, half and quarter resolution. For 720p the usual
targets are about 1500, 500 and 150 kbit/s (Janus's VideoRoom demo, LiveKit's presets); smaller
captures scale those by their share of 720p's pixels, never below a floor that still moves
pictures. The layers are named by rid as janus.js names them (``h``, ``m``, ``l``) and listed
highest first, the order Chrome writes them in ``a=simulcast:send h;m;l`` and Janus's default
``rid_order`` ("hml") expects. Janus numbers them the other way round: substream 0 is the lowest.

Each layer also carries three VP8 temporal layers (RFC 7741 §4.2 TID), the pattern libvpx's
``ts_layering_mode=3`` produces and Chrome uses with simulcast: TID 0, 2, 1, 2 repeating, so a
subscriber can get 1/4, 1/2 or all of the frames. A cumulative 40 / 60 / 100 % split of a layer's
bits over its temporal layers is WebRTC's default for three temporal layers.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.peers.vp8 import TEMPORAL_LAYERS as TEMPORAL_LAYERS
from simulator.peers.vp8 import TEMPORAL_PATTERN as TEMPORAL_PATTERN
from simulator.peers.vp8 import TEMPORAL_SHARES as TEMPORAL_SHARES

RIDS = ("h", "m", "l")
"""Highest first, as in the SDP."""
SCALE_DOWN = (1, 2, 4)
BITRATES_720P_BPS = (1_500_000, 500_000, 150_000)
PIXELS_720P = 1280 * 720
MIN_BITRATE_BPS = 30_000


@dataclass(frozen=True)
class Layer:
    """One simulcast encoding."""

    rid: str
    substream: int
    """Janus's index: 0 is the lowest layer."""
    width: int
    height: int
    fps: int
    bitrate_bps: int

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"


def _even(value: float) -> int:
    """VP8 wants whole macroblock-friendly sizes; at least even ones (4:2:0 chroma)."""
    return max(16, int(value) // 2 * 2)


def browser_layers(
    width: int, height: int, fps: int, rids: tuple[str, ...] = RIDS
) -> tuple[Layer, ...]:
    """The three layers for a capture of ``width`` x ``height``, highest first, named by
    ``rids`` (highest first: Janus's ``h m l`` by default, LiveKit's ``f h q``)."""
    share = width * height / PIXELS_720P
    layers = []
    for index, (rid, scale, bitrate) in enumerate(
        zip(rids, SCALE_DOWN, BITRATES_720P_BPS, strict=True)
    ):
        layers.append(
            Layer(
                rid=rid,
                substream=len(rids) - 1 - index,
                width=_even(width / scale),
                height=_even(height / scale),
                fps=fps,
                bitrate_bps=max(MIN_BITRATE_BPS, round(bitrate * share)),
            )
        )
    return tuple(layers)


def temporal_id(frame_index: int) -> int:
    """The VP8 temporal layer of a layer's ``frame_index``-th frame (0 is the base)."""
    return TEMPORAL_PATTERN[frame_index % len(TEMPORAL_PATTERN)]


def temporal_fps(fps: int, temporal: int) -> float:
    """Frames per second a subscriber capped at ``temporal`` gets: 1/4, 1/2 or all."""
    kept = sum(1 for tid in TEMPORAL_PATTERN if tid <= temporal)
    return fps * kept / len(TEMPORAL_PATTERN)
