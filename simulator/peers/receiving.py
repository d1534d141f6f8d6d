"""One subscriber peer connection and the subscriptions whose media it carries, by m-line.

On Janus a subscriber peer carries one feed (a handle each); on LiveKit one peer carries every
subscription of the participant and the server renegotiates it whenever a track comes or goes.
Either way each offer says which m-line carries which feed (``SubscriberOffer.feed_of``, handed
in as ``FeedOf``), so
every frame is credited to the subscription its m-line carries when it arrives: an m-line that
dropped out of the last offer (an unsubscribed track, still draining) is credited to nobody.

A receiver gets its mode once, from the subscription it was offered for: live subscriptions
decode every frame (``track.recv()``, layer sizes from the RTP), cheap ones count frames from the
RTP headers without decoding (``peers.cheap``), and an m-line nobody subscribed to is counted
cheaply and credited to nobody. Modes are set between ``setRemoteDescription`` and
``setLocalDescription``: the decoder thread takes its queue once the answer is applied.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping

from aiortc import RTCPeerConnection, RTCRtpTransceiver, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from simulator.peers import cheap, latency
from simulator.peers.keyframe_request import KeyframeRequester, pli_sender, video_ssrc
from simulator.peers.layer_tracking import tap_video
from simulator.peers.peer_state import SubscriptionState, TrackCounters
from simulator.peers.rtc import new_peer_connection
from simulator.peers.trickle import TrickledCandidates, wait_connected

FeedOf = Callable[[str | None], str | None]
"""The feed an m-line (by mid) carries now, if any."""


def _nobody(mid: str | None) -> str | None:
    return None


class ReceivingPeer:
    """A subscriber peer connection named ``name`` (``SubscriberOffer.peer``); ``shared``: it
    carries every subscription of the participant (its transport's figures are nobody's)."""

    def __init__(
        self,
        name: str,
        subscriptions: Mapping[str, SubscriptionState],
        *,
        shared: bool = False,
        dtls_passive: bool = False,
    ) -> None:
        self.name = name
        self.shared = shared
        self.dtls_passive = dtls_passive
        """Answer ``a=setup:passive`` (``PeerPlan.subscriber_dtls_passive``)."""
        self.pc: RTCPeerConnection = new_peer_connection()
        self.created_at = time.monotonic()
        self.feed_of: FeedOf = _nobody
        """What the last offer answered says: which m-line carries which feed now."""
        self.local_sdp = ""
        self.remote_sdp = ""
        self.negotiations = 0
        self.candidates = TrickledCandidates(self.pc)
        self._subscriptions = subscriptions  # the participant's, by feed
        self._set_up: set[int] = set()  # transceivers given a mode
        self._drained = False
        self._consumers: list[asyncio.Task[None]] = []
        self._lock = asyncio.Lock()  # one negotiation at a time
        self.pc.on("track", self._on_track)

    # -- which subscription an m-line carries ---------------------------------------------------
    def subscription_of(self, mid: str | None) -> SubscriptionState | None:
        feed = self.feed_of(mid)
        state = self._subscriptions.get(feed) if feed else None
        return state if state is not None and state.peer == self.name else None

    def transceivers_of(self, feed: str) -> list[RTCRtpTransceiver]:
        """The m-lines that carry ``feed`` now."""
        return [t for t in self.pc.getTransceivers() if self.feed_of(t.mid) == feed]

    # -- negotiation ---------------------------------------------------------------------------
    async def answer(self, offer_sdp: str, feed_of: FeedOf) -> str:
        """Take the server's offer (a first one or a renegotiation, its m-lines carrying
        ``feed_of``); our answer's SDP."""
        async with self._lock:
            self.feed_of = feed_of
            self.remote_sdp = offer_sdp
            await self.pc.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
            await self.candidates.flush()
            self._set_up_receivers()
            if self.dtls_passive:
                _answer_passive(self.pc)
            await self.pc.setLocalDescription(await self.pc.createAnswer())
            if not self._drained and any(
                s.media == "cheap" for s in self._subscriptions.values() if s.peer == self.name
            ):
                self._drained = bool(cheap.drain_sockets(self.pc))
            self.local_sdp = self.pc.localDescription.sdp
            self.negotiations += 1
            return self.local_sdp

    async def wait_connected(self, timeout_s: float) -> None:
        await wait_connected(self.pc, timeout_s, f"subscriber {self.name}")

    def _set_up_receivers(self) -> None:
        for transceiver in self.pc.getTransceivers():
            if id(transceiver) in self._set_up or transceiver.kind not in ("audio", "video"):
                continue
            self._set_up.add(id(transceiver))
            state = self.subscription_of(transceiver.mid)
            if state is None or state.media == "cheap":
                on_frame_start = (
                    self._frame_start_of(transceiver) if transceiver.kind == "video" else None
                )
                cheap.count_frames(
                    self.pc,
                    self._counter(transceiver),
                    [transceiver],
                    on_frame_start=on_frame_start,
                )
            elif transceiver.kind == "video":
                tap_video(self.pc, state.layers, [transceiver])
                latency.tap_frame_starts(self.pc, self._latency_of(transceiver), [transceiver])

    def keyframe_requester(self, state: SubscriptionState) -> KeyframeRequester | None:
        """A PLI sender for the subscription's video, asking until a key frame came."""
        video = next((t for t in self.transceivers_of(state.feed) if t.kind == "video"), None)
        if video is None:
            return None
        ssrc = video_ssrc(self.remote_sdp, video.mid)
        if ssrc is None:
            return None
        return KeyframeRequester(
            pli_sender(video.receiver, ssrc), lambda: state.layers.size is not None
        )

    # -- crediting frames ----------------------------------------------------------------------
    def _counter(self, transceiver: RTCRtpTransceiver) -> Callable[[str, int], None]:
        def counted(kind: str, nbytes: int) -> None:
            state = self.subscription_of(transceiver.mid)
            if state is None:
                return  # nobody's (an unsubscribed track, still draining)
            state.received.setdefault(kind, TrackCounters()).frames += 1
            if kind == "video":
                state.layers.on_frame(nbytes)
                if state.keyframes is not None:
                    state.keyframes.on_frame()

        return counted

    def _frame_start_of(self, transceiver: RTCRtpTransceiver) -> Callable[[bytes, int], None]:
        """The first packet of each video frame a cheap receiver counts: its key frame sizes
        (layer tracking) and its one-way latency (``peers.latency``)."""
        sizes = cheap.keyframe_sizes(self._keyframe_of(transceiver))

        def frame_start(payload: bytes, timestamp: int) -> None:
            sizes(payload, timestamp)
            state = self.subscription_of(transceiver.mid)
            if state is not None and state.latency is not None:
                state.latency.on_frame_payload(payload, timestamp)

        return frame_start

    def _latency_of(self, transceiver: RTCRtpTransceiver) -> latency.FrameStart:
        """A live receiver's video frame starts, to the latency of the subscription its m-line
        carries when they arrive."""

        def frame_start(payload: bytes, arrival_ntp_ms: int, timestamp: int) -> None:
            state = self.subscription_of(transceiver.mid)
            if state is not None and state.latency is not None:
                state.latency.on_frame_start(payload, arrival_ntp_ms, timestamp)

        return frame_start

    def _keyframe_of(self, transceiver: RTCRtpTransceiver) -> Callable[[int, int], None]:
        """A key frame reached a cheap receiver: the first is the first frame a browser could
        show (inter frames before it are counted, but show nothing)."""

        def keyframe(width: int, height: int) -> None:
            state = self.subscription_of(transceiver.mid)
            if state is None:
                return
            state.layers.on_keyframe(width, height)
            if state.first_frame_s is None:
                state.first_frame_s = time.monotonic() - state.started_at

        return keyframe

    def _on_track(self, track: MediaStreamTrack) -> None:
        transceiver = next(
            (t for t in self.pc.getTransceivers() if t.receiver.track is track), None
        )
        if transceiver is None:
            return
        state = self.subscription_of(transceiver.mid)
        if state is not None and state.media == "live":
            self._consumers.append(asyncio.create_task(self._consume(transceiver, track)))

    async def _consume(self, transceiver: RTCRtpTransceiver, track: MediaStreamTrack) -> None:
        try:
            while True:
                await track.recv()
                state = self.subscription_of(transceiver.mid)
                if state is None:
                    continue
                state.received.setdefault(track.kind, TrackCounters()).frames += 1
                if state.first_frame_s is None and track.kind == "video":
                    state.first_frame_s = time.monotonic() - state.started_at
        except MediaStreamError:
            return

    # -- measurements --------------------------------------------------------------------------
    async def snapshot(self, state: SubscriptionState) -> None:
        """Audio packets of ``state``'s m-lines (aiortc's video inbound-rtp is unreliable: the
        RTX SSRC overwrites it); the transport's bytes when the peer is the subscription's own."""
        for transceiver in self.transceivers_of(state.feed):
            if transceiver.kind != "audio":
                continue
            stats = await transceiver.receiver.getStats()
            for report in stats.values():
                if report.type == "inbound-rtp":
                    counters = state.received.setdefault("audio", TrackCounters())
                    counters.packets = int(report.packetsReceived)
        if not self.shared:
            stats = await self.pc.getStats()
            for report in stats.values():
                if report.type == "transport":
                    # Plus what the cheap path's pump consumed before aiortc saw it.
                    state.bytes_received = cheap.received_bytes(self.pc, int(report.bytesReceived))

    async def close(self) -> None:
        await self.pc.close()
        for task in self._consumers:
            task.cancel()
        for task in self._consumers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._consumers.clear()


def _answer_passive(pc: RTCPeerConnection) -> None:
    """The answer's DTLS role is the transports' (``createAnswer`` writes ``active`` only for
    a transport whose role is still ``auto``): make each one the DTLS server. aiortc has no
    public setting for it; ``_set_role`` is what its own ``setRemoteDescription`` calls."""
    for transceiver in pc.getTransceivers():
        transport = transceiver.receiver.transport
        if transport is not None and transport.state == "new":
            transport._set_role("server")
