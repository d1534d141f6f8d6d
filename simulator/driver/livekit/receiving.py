"""What a LiveKit participant receives: subscriptions and the frames counted for them.

All of a participant's subscriptions share its one subscriber connection; each offer's
``mid_to_track_id`` says which m-line carries which track SID *now* (an unsubscribed track's
m-line drops out of it), so a frame is credited to the subscription holding the track its
m-line carries when it arrives. Live subscriptions decode every frame (``track.recv()``),
cheap ones count frames without decoding (``simulator.peers.cheap``); the mode is fixed per
transceiver by the subscription it was made for.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiortc import RTCPeerConnection, RTCRtpTransceiver
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from simulator.peers import cheap
from simulator.peers.peer_state import TrackCounters


@dataclass
class Subscription:
    """What this participant receives from one remote participant (one OpenVidu subscriber)."""

    publisher_identity: str
    publisher_sid: str
    track_sids: dict[str, str]  # "TR_..." -> kind
    media: cheap.Media
    stream_id: str = ""
    started_at: float = field(default_factory=time.monotonic)
    received: dict[str, TrackCounters] = field(default_factory=dict)
    first_frame_s: float | None = None


class ReceivedMedia:
    """Counts what arrives on one subscriber connection, per subscription."""

    def __init__(self, pc: RTCPeerConnection, subscriptions: dict[str, Subscription]) -> None:
        self.pc = pc
        self.subscriptions = subscriptions  # the participant's, by publisher identity
        self.mid_to_track: dict[str, str] = {}
        self.drained = False
        self._set_up: set[int] = set()  # transceivers already given a mode
        self._counting: set[int] = set()  # ... and those of them that count, not decode
        self._consumers: list[asyncio.Task[None]] = []

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            transceiver = next((t for t in pc.getTransceivers() if t.receiver.track is track), None)
            if transceiver is None or id(transceiver) in self._counting:
                return
            self._consumers.append(asyncio.create_task(self._consume(transceiver, track)))

    def offered(self, mid_to_track: dict[str, str]) -> None:
        """A new offer says which m-line carries which track from now on."""
        self.mid_to_track = dict(mid_to_track)

    def set_up_new_receivers(self) -> None:
        """Give the receivers the last offer added their mode; call after
        ``setRemoteDescription`` and before ``setLocalDescription`` (their decoder thread
        starts once the answer is applied)."""
        for transceiver in self.pc.getTransceivers():
            if id(transceiver) in self._set_up or transceiver.kind not in ("audio", "video"):
                continue
            self._set_up.add(id(transceiver))
            subscription = self.subscription_of(transceiver.mid)
            if subscription is not None and subscription.media == "cheap":
                self._counting.add(id(transceiver))
                cheap.count_frames(self.pc, self._counter(transceiver), [transceiver])

    def drain_if_cheap(self) -> None:
        """Read the connection's sockets in batches once any subscription is cheap."""
        if not self.drained and any(s.media == "cheap" for s in self.subscriptions.values()):
            self.drained = bool(cheap.drain_sockets(self.pc))

    def subscription_of(self, mid: str | None) -> Subscription | None:
        sid = self.mid_to_track.get(mid or "")
        if sid is None:
            return None
        return next((s for s in self.subscriptions.values() if sid in s.track_sids), None)

    def _counter(self, transceiver: RTCRtpTransceiver) -> Callable[[str, int], None]:
        def counted(kind: str, nbytes: int) -> None:
            self.count(transceiver.mid, kind)

        return counted

    def count(self, mid: str | None, kind: str) -> None:
        subscription = self.subscription_of(mid)
        if subscription is None:
            return  # a track we unsubscribed from, still draining
        subscription.received.setdefault(kind, TrackCounters()).frames += 1
        if subscription.first_frame_s is None and kind == "video":
            subscription.first_frame_s = time.monotonic() - subscription.started_at

    async def _consume(self, transceiver: RTCRtpTransceiver, track: MediaStreamTrack) -> None:
        try:
            while True:
                await track.recv()
                self.count(transceiver.mid, track.kind)
        except MediaStreamError:
            return

    async def snapshot(self) -> None:
        """Packets per audio track (aiortc's video inbound-rtp is unreliable: RTX overwrites)."""
        for transceiver in self.pc.getTransceivers():
            subscription = self.subscription_of(transceiver.mid)
            if subscription is None or transceiver.kind != "audio":
                continue
            stats = await transceiver.receiver.getStats()
            for report in stats.values():
                if report.type == "inbound-rtp":
                    counters = subscription.received.setdefault("audio", TrackCounters())
                    counters.packets = int(report.packetsReceived)

    async def close(self) -> None:
        for task in self._consumers:
            task.cancel()
        for task in self._consumers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._consumers.clear()
