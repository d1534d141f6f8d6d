"""A simulcast camera: three layers sent on one m-line of a publisher's peer connection.

``SimulcastVideo`` stands where a video track stands for an ordinary publisher (it counts
``frames_sent`` and has ``muted``), but aiortc sends none of it: after Janus answered, it opens
one ``RtpStream`` per layer on the peer's DTLS transport and paces them itself, one camera frame
at a time, each active layer getting its own frame of the same moment (same capture time, each
layer's own RTP timestamp origin, as a browser's encodings).

Feedback, as a browser handles it:
* PLI on a layer's SSRC (or FIR naming it) gets that layer a key frame on the next frame;
* REMB and loss in receiver reports feed ``LayerBudget``, which switches the top layers off
  when the estimate no longer covers them and back on later; a layer that comes back starts
  with a key frame. The ledger keeps when each layer was on.

Sent bytes are sampled once a second per layer and VP8 temporal layer, so the bitrate a
subscriber received from a layer over any window can be held against what was sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCRtpTransceiver
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensionsMap

from simulator.peers.feedback import FeedbackHub
from simulator.peers.simulcast import sdp
from simulator.peers.simulcast.congestion import LayerBudget
from simulator.peers.simulcast.layers import Layer
from simulator.peers.simulcast.rtp_stream import RtpStream
from simulator.peers.simulcast.sources import LayerSource
from simulator.peers.tracks import VIDEO_CLOCK_HZ
from simulator.peers.vp8 import Vp8Packetizer, is_keyframe

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 20.0
RTCP_INTERVAL_S = 1.0
SAMPLE_INTERVAL_S = 1.0
SENT_EXTENSIONS = (sdp.MID_URI, sdp.RID_URI, sdp.REPAIRED_RID_URI, sdp.ABS_SEND_TIME_URI)


def _wall_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class LayerState:
    layer: Layer
    source: LayerSource
    stream: RtpStream | None = None
    packetizer: Vp8Packetizer = field(default_factory=Vp8Packetizer)
    active: bool = False
    active_periods: list[list[int | None]] = field(default_factory=list)
    samples: list[list[int]] = field(default_factory=list)
    """``[wall ms, bytes of TID 0, 1, 2, frames of TID 0, 1, 2]``, cumulative, once a second."""

    def sample(self, at_ms: int) -> list[int]:
        if self.stream is None:
            return [at_ms, *[0] * 6]
        counters = self.stream.counters
        return [at_ms, *counters.bytes_by_temporal, *counters.frames_by_temporal]


class SimulcastVideo:
    """The layers (highest first, as in the SDP) and where each one's frames come from."""

    kind = "video"

    def __init__(
        self,
        layers: Sequence[Layer],
        sources: dict[str, LayerSource],
        *,
        encodes: bool = False,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.layers = tuple(layers)
        self.fps = self.layers[0].fps
        self.frames_sent = 0
        self.muted = False
        self.accepted_rids: list[str] = []
        self._states = {layer.rid: LayerState(layer, sources[layer.rid]) for layer in layers}
        self._lowest_first = sorted(self._states.values(), key=lambda s: s.layer.substream)
        self._encodes = encodes  # live sources encode: off the event loop
        self._clock = clock
        self._rng = rng or random.Random()
        self.budget = LayerBudget([s.layer.bitrate_bps for s in self._lowest_first], clock)
        self._hub = FeedbackHub()
        self._transport: Any = None
        self._task: asyncio.Task[None] | None = None
        self._sending_bps = 0.0
        self._sampled_bytes = 0

    # -- negotiation --------------------------------------------------------------------------
    def offer(self, local_sdp: str, mid: str) -> str:
        """What to send Janus instead of aiortc's offer."""
        return sdp.simulcast_offer(local_sdp, mid, [layer.rid for layer in self.layers])

    def start(self, transceiver: RTCRtpTransceiver, answer_sdp: str, cname: str) -> None:
        """Open the layers' RTP streams once the answer is applied; they send when the DTLS
        transport is up."""
        mid = transceiver.mid
        if mid is None:
            raise sdp.SimulcastSdpError("the video transceiver has no mid")
        self.accepted_rids = sdp.answered_rids(answer_sdp, mid)
        missing = [layer.rid for layer in self.layers if layer.rid not in self.accepted_rids]
        if missing:
            raise sdp.SimulcastSdpError(
                f"the server did not accept simulcast layers {missing} "
                f"(answer: {self.accepted_rids})"
            )
        ids = sdp.extension_ids(answer_sdp, mid)
        if sdp.RID_URI not in ids or sdp.MID_URI not in ids:
            raise sdp.SimulcastSdpError("the answer negotiated no mid / rid header extension")
        extensions = HeaderExtensionsMap()
        extensions.configure(
            RTCRtpParameters(
                headerExtensions=[
                    RTCRtpHeaderExtensionParameters(id=ids[uri], uri=uri)
                    for uri in SENT_EXTENSIONS
                    if uri in ids
                ]
            )
        )
        payload_type, rtx_payload_type = sdp.payload_types(answer_sdp, mid)
        transport = transceiver.receiver.transport  # the bundle's DTLS transport
        self._transport = transport
        self._hub.attach(transport)
        for state in self._states.values():
            stream = RtpStream(
                transport,
                extensions,
                payload_type=payload_type,
                rtx_payload_type=rtx_payload_type,
                mid=mid,
                rid=state.layer.rid,
                cname=cname,
                on_keyframe_request=state.source.request_keyframe,
                on_loss=self._on_loss,
                rng=self._rng,
            )
            state.stream = stream
            state.packetizer = Vp8Packetizer(self._rng)
            transport._rtp_router.register_sender(stream, ssrc=stream.ssrc)
            self._hub.keyframe_callbacks[stream.ssrc] = state.source.request_keyframe
            self._hub.remb_callbacks[stream.ssrc] = self.budget.on_remb
        self._task = asyncio.create_task(self._run(), name="simulcast-video")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        transport = self._transport
        if transport is None:
            return
        streams = [s.stream for s in self._states.values() if s.stream is not None]
        if transport.state == "connected":
            with contextlib.suppress(ConnectionError):
                await transport._send_rtp(b"".join(bytes(s.goodbye()) for s in streams))
        for stream in streams:
            transport._rtp_router.unregister_sender(stream)
        self._hub.detach(transport)
        self._close_periods()

    # -- sending ------------------------------------------------------------------------------
    async def _run(self) -> None:
        try:
            await self._connected()
            start = self._clock()
            next_rtcp = next_sample = start
            while True:
                due = start + self.frames_sent / self.fps
                await asyncio.sleep(max(0.0, due - self._clock()))
                self._apply_budget()
                await self._send_frame(self.frames_sent)
                self.frames_sent += 1
                now = self._clock()
                if now >= next_sample:
                    self._sample()
                    next_sample += SAMPLE_INTERVAL_S
                if now >= next_rtcp:
                    await self._send_reports()
                    next_rtcp = now + RTCP_INTERVAL_S * (0.5 + self._rng.random())
        except ConnectionError:
            log.debug("simulcast video: the transport closed")

    async def _connected(self) -> None:
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            while self._transport.state != "connected":
                if self._transport.state in ("closed", "failed"):
                    raise ConnectionError("DTLS transport ended before it connected")
                await asyncio.sleep(0.01)

    def _apply_budget(self) -> None:
        active = self.budget.update()
        for index, state in enumerate(self._lowest_first):
            wanted = index < active
            if wanted and not state.active:
                state.source.request_keyframe()  # an encoding switched on starts with one
                state.active_periods.append([_wall_ms(), None])
            elif state.active and not wanted:
                state.active_periods[-1][1] = _wall_ms()
            state.active = wanted

    async def _send_frame(self, index: int) -> None:
        active = [s for s in self._lowest_first if s.active]
        if self._encodes:
            frames = await self._encode_apart(active)
        else:
            frames = self._encode_all(active)
        timestamp = index * VIDEO_CLOCK_HZ // self.fps
        for state, (data, tid, sync) in zip(active, frames, strict=True):
            assert state.stream is not None
            payloads = state.packetizer.packetize(data, tid, layer_sync=sync)
            keyframe = is_keyframe(data)
            await state.stream.send_frame(
                payloads, timestamp, temporal=0 if keyframe else tid, keyframe=keyframe
            )

    def _encode_all(self, active: list[LayerState]) -> list[tuple[bytes, int, bool]]:
        return [state.source.next_frame(self.muted) for state in active]

    async def _encode_apart(self, active: list[LayerState]) -> list[tuple[bytes, int, bool]]:
        """Live layers encode in parallel threads (PyAV lets go of the GIL while libvpx
        works), as a browser runs one encoder per simulcast layer."""
        loop = asyncio.get_running_loop()
        jobs = [loop.run_in_executor(None, state.source.next_frame, self.muted) for state in active]
        return list(await asyncio.gather(*jobs))

    async def _send_reports(self) -> None:
        packets = []
        for state in self._lowest_first:
            if state.active and state.stream is not None:
                packets += state.stream.sender_report()
        if packets:
            await self._transport._send_rtp(b"".join(bytes(p) for p in packets))

    def _sample(self) -> None:
        now = _wall_ms()
        total = 0
        for state in self._states.values():
            if state.stream is not None:
                total += state.stream.counters.bytes
                state.samples.append(state.sample(now))
        self._sending_bps = (total - self._sampled_bytes) * 8 / SAMPLE_INTERVAL_S
        self._sampled_bytes = total

    def _on_loss(self, fraction_lost: float) -> None:
        self.budget.on_loss(fraction_lost, self._sending_bps)

    def _close_periods(self) -> None:
        now = _wall_ms()
        for state in self._states.values():
            if state.active_periods and state.active_periods[-1][1] is None:
                state.active_periods[-1][1] = now
            state.active = False

    # -- reading ------------------------------------------------------------------------------
    @property
    def states(self) -> list[LayerState]:
        """Highest first."""
        return [self._states[layer.rid] for layer in self.layers]

    def totals(self) -> tuple[int, int]:
        """(packets, payload bytes) sent on all layers."""
        streams = [s.stream for s in self._states.values() if s.stream is not None]
        return sum(s.counters.packets for s in streams), sum(s.counters.bytes for s in streams)
