"""Which simulcast layer a subscription gets, from when to when, and what arrived meanwhile.

Janus's VideoRoom tells a subscriber when the layer it relays changes: an ``event`` with
``substream`` (0 is the lowest layer) or ``temporal`` (the highest VP8 temporal layer let
through), pushed when it switches on a key frame of the new layer, and also when a configure
asks for the layer already relayed (``janus_videoroom.c``, ``sim_context.changed_substream``).
Each such event opens a period (events within ``SETTLE_S`` of the last opening are one
switch). A period counts the frames and payload bytes received in it and the picture size of
its key frames (a subscriber that never decodes reads it from the VP8 key frame header); from
``SETTLE_S`` after it opened it counts them a second time ("settled"), so a rate over a period
is not skewed by the switch itself.

The event arrives by HTTP long-poll, the key frame that caused it straight from Janus: the
first frames of a new layer can land in the previous period, which is why a period keeps the
frames it saw per size, and its size is the one most of them had.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCPeerConnection, RTCRtpTransceiver
from aiortc.rtp import RtpPacket

from simulator.peers.vp8 import payload_keyframe_size

SETTLE_S = 1.0


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class LayerPeriod:
    substream: int | None
    temporal: int | None
    from_ms: int
    requested_ms: int | None = None
    to_ms: int | None = None
    frames: int = 0
    bytes: int = 0
    keyframes: int = 0
    sizes: dict[str, int] = field(default_factory=dict)
    settled_from_ms: int | None = None
    settled_frames: int = 0
    settled_bytes: int = 0

    @property
    def size(self) -> tuple[int, int] | None:
        """The picture size most of the period's frames had."""
        if not self.sizes:
            return None
        width, _, height = max(self.sizes.items(), key=lambda kv: kv[1])[0].partition("x")
        return int(width), int(height)


@dataclass
class LayerRequest:
    at_ms: int
    substream: int | None
    temporal: int | None


class LayerTracker:
    """Fed by the subscription's receive path (frames, key frame sizes) and its Janus events."""

    def __init__(self, clock_ms: Callable[[], int] = now_ms) -> None:
        self._clock_ms = clock_ms
        self.requests: list[LayerRequest] = []
        self.periods: list[LayerPeriod] = []
        self.size: tuple[int, int] | None = None
        self.substream: int | None = None
        self.temporal: int | None = None
        self.by_size: dict[tuple[int, int], int] = {}
        """A layer's picture size -> its substream, for a server that does not say which
        layer it relays (LiveKit): a key frame of another layer's size is the switch."""

    @property
    def current(self) -> LayerPeriod | None:
        return self.periods[-1] if self.periods and self.periods[-1].to_ms is None else None

    def request(self, substream: int | None, temporal: int | None) -> None:
        self.requests.append(LayerRequest(self._clock_ms(), substream, temporal))

    def on_janus_event(self, data: dict[str, Any]) -> None:
        """A VideoRoom plugin event pushed to the subscription's handle."""
        if data.get("videoroom") != "event":
            return
        substream, temporal = data.get("substream"), data.get("temporal")
        if not isinstance(substream, int) and not isinstance(temporal, int):
            return
        self.on_relayed(
            substream if isinstance(substream, int) else None,
            temporal if isinstance(temporal, int) else None,
        )

    def on_relayed(self, substream: int | None, temporal: int | None) -> None:
        """The server says it now relays this layer (``None``: that part did not change); the
        driver's ``OnLayer``."""
        if substream is not None:
            self.substream = substream
        if temporal is not None:
            self.temporal = temporal
        current = self.current
        if current is not None and (current.substream, current.temporal) == (
            self.substream,
            self.temporal,
        ):
            return  # the layer asked for is the one already relayed
        now = self._clock_ms()
        if current is not None and now - current.from_ms < SETTLE_S * 1000:
            # Janus reports substream and temporal one after the other when a relay starts or
            # switches: still the same switch, one period.
            current.substream, current.temporal = self.substream, self.temporal
            return
        if current is not None:
            current.to_ms = now
        pending = [r for r in self.requests if r.substream in (None, self.substream)]
        self.periods.append(
            LayerPeriod(
                self.substream,
                self.temporal,
                from_ms=now,
                requested_ms=pending[-1].at_ms if pending else None,
                settled_from_ms=now + int(SETTLE_S * 1000),
            )
        )

    def on_keyframe(self, width: int, height: int) -> None:
        substream = self.by_size.get((width, height))
        if substream is not None and (self.current is None or substream != self.substream):
            self.on_relayed(substream, None)
        self.size = (width, height)
        current = self.current
        if current is not None:
            current.keyframes += 1

    def on_frame(self, nbytes: int) -> None:
        current = self.current
        if current is None:
            return
        current.frames += 1
        current.bytes += nbytes
        if self.size is not None:
            key = f"{self.size[0]}x{self.size[1]}"
            current.sizes[key] = current.sizes.get(key, 0) + 1
        if current.settled_from_ms is not None and self._clock_ms() >= current.settled_from_ms:
            current.settled_frames += 1
            current.settled_bytes += nbytes

    def on_handle_event(self, event: dict[str, Any]) -> None:
        """A listener for the subscription's Janus handle (``JanusHandle.listeners``)."""
        data = event.get("plugindata", {}).get("data", {})
        if event.get("janus") == "event" and isinstance(data, dict):
            self.on_janus_event(data)

    def close(self) -> None:
        current = self.current
        if current is not None:
            current.to_ms = self._clock_ms()


def video_mid(offer_sdp: str) -> str | None:
    """The mid of the first video m-line of an SDP."""
    in_video = False
    for line in offer_sdp.splitlines():
        if line.startswith("m="):
            in_video = line.startswith("m=video")
        elif in_video and line.startswith("a=mid:"):
            return line[len("a=mid:") :].strip()
    return None


def tap_video(
    pc: RTCPeerConnection,
    tracker: LayerTracker,
    transceivers: Iterable[RTCRtpTransceiver] | None = None,
) -> None:
    """Feed a decoding subscriber's layer tracker from its video receiver's RTP: payload bytes
    per frame (at the marker bit) and key frame sizes, then let aiortc handle the packet as
    usual. Retransmissions (RTX) are left out of the bytes. (A private method of aiortc's
    receiver, wrapped on the instance: aiortc has no hook for incoming RTP.) ``transceivers``:
    only these (a subscription's own m-lines on a shared subscriber peer), not all of ``pc``."""
    for transceiver in pc.getTransceivers() if transceivers is None else transceivers:
        if transceiver.kind == "video":
            receiver = transceiver.receiver
            receiver._handle_rtp_packet = _tapped(receiver, tracker)  # type: ignore[method-assign,assignment]


def _tapped(
    receiver: Any, tracker: LayerTracker
) -> Callable[[RtpPacket, int], Coroutine[Any, Any, None]]:
    original = receiver._handle_rtp_packet
    codecs: dict[int, Any] = receiver._RTCRtpReceiver__codecs
    pending = 0

    async def tapped(packet: RtpPacket, arrival_time_ms: int) -> None:
        nonlocal pending
        codec = codecs.get(packet.payload_type)
        if codec is not None and not codec.mimeType.lower().endswith("/rtx"):
            size = payload_keyframe_size(packet.payload)
            if size is not None:
                tracker.on_keyframe(*size)
            pending += len(packet.payload)
            if packet.marker:
                tracker.on_frame(pending)
                pending = 0
        await original(packet, arrival_time_ms)

    return tapped
