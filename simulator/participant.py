"""One synthetic participant: a publisher peer and subscriber peers (made of
``simulator.peers``), signalled through the media server's driver (a ``ParticipantLink``,
``simulator.driver.protocol``).

It keeps its own counters (frames and bytes sent and received per track): that is the
simulator's ground truth, recorded on a path that never goes through the collector.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from pathlib import Path
from typing import Any

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from simulator.driver.protocol import Layer, MediaKind, ParticipantLink, PublishMedia, Talking
from simulator.impairment.inprocess import InProcessImpairer
from simulator.impairment.kernel import host_candidate_ports
from simulator.impairment.model import Impairment
from simulator.peers import cheap, client_samples, clips, publishing
from simulator.peers.keyframe_request import KeyframeRequester, pli_sender, video_ssrc
from simulator.peers.layer_tracking import LayerTracker, tap_video, video_mid
from simulator.peers.peer_state import PublisherState, SubscriptionState, TrackCounters
from simulator.peers.publishing import PublishOptions, TalkOptions
from simulator.peers.rtc import new_peer_connection
from simulator.peers.simulcast.publisher import SimulcastVideo

log = logging.getLogger(__name__)

WEBRTC_UP_TIMEOUT_S = 20.0


async def _transport_bytes(pc: RTCPeerConnection, field_name: str) -> int:
    stats = await pc.getStats()
    return sum(int(getattr(r, field_name, 0)) for r in stats.values() if r.type == "transport")


class Participant:
    """A synthetic browser in one room. Runs on the event loop of the client namespace."""

    def __init__(
        self,
        link: ParticipantLink,
        connection_id: str,
        display: str,
        impairer: InProcessImpairer | None = None,
        *,
        clips_dir: Path | None = None,
    ) -> None:
        self.link = link
        self.connection_id = connection_id
        self.display = display
        self.room: str | None = None
        self.publisher: PublisherState | None = None
        self.subscriptions: dict[str, SubscriptionState] = {}
        self.sent: dict[str, TrackCounters] = {}
        self.left_wall_ms: int | None = None
        """Wall-clock ms when Janus acknowledged our clean leave (``leave``)."""
        # One impairer for all the participant's peers: they share one uplink and one downlink.
        self.impairer = impairer or InProcessImpairer(random.Random(connection_id))
        # Where cheap publishers find their pre-encoded clips (made there on first use).
        self.clips_dir = clips_dir
        self.talking: list[tuple[int, str, bool, float | None]] = []
        """(ms, feed, talking, average dBov) per VideoRoom talking notification received."""

    # -- lifecycle ---------------------------------------------------------------------------
    async def join(self, room: str) -> None:
        await self.link.join(room, on_talking=self._talking)
        self.room = room

    def _talking(self, notice: Talking) -> None:
        """The server tells every participant of an ``audiolevel_event`` room who talks."""
        self.talking.append(
            (int(time.time() * 1000), notice.feed, notice.talking, notice.level_dbov)
        )

    async def publish(self, stream_id: str, options: PublishOptions) -> None:
        self._require_room()
        pc = new_peer_connection()
        clips_dir = self.clips_dir or clips.default_clips_dir()
        audio, video = await publishing.make_tracks(options, clips_dir, seed=self.connection_id)
        transceiver = publishing.add_tracks(pc, audio, video, options.media)
        state = PublisherState(stream_id, options, pc, audio, video, time.monotonic())
        self.publisher = state
        await pc.setLocalDescription(await pc.createOffer())
        self.impairer.attach(pc)
        state.local_sdp = pc.localDescription.sdp
        offer = state.local_sdp
        if isinstance(video, SimulcastVideo) and transceiver is not None:
            offer = video.offer(offer, str(transceiver.mid))
        answer = await self.link.publish(
            offer, PublishMedia(audio=options.audio, video=options.video)
        )
        state.remote_sdp = answer.sdp
        state.server_streams = answer.streams
        await pc.setRemoteDescription(RTCSessionDescription(state.remote_sdp, "answer"))
        if options.media == "cheap":
            cheap.answer_feedback(pc)
        if isinstance(video, SimulcastVideo) and transceiver is not None:
            video.start(transceiver, state.remote_sdp, publishing.cname_of(state.local_sdp))
        await self.link.wait_published(WEBRTC_UP_TIMEOUT_S)
        state.ice_connected_s = time.monotonic() - state.started_at

    async def subscribe(
        self,
        feed: str,
        stream_id: str = "",
        media: cheap.Media = "live",
        *,
        substream: int | None = None,
        temporal: int | None = None,
    ) -> None:
        """Receive ``feed``; ``substream``/``temporal``: the simulcast layer to ask for (Janus
        relays the highest by default)."""
        self._require_room()
        layers = LayerTracker()
        layers.request(substream, temporal)
        signalled = await self.link.subscribe(
            feed, Layer(substream, temporal), on_layer=layers.on_relayed
        )
        offer = signalled.sdp
        # One peer per subscription (Janus: the offer's peer is the feed). A server that
        # renegotiates one subscriber peer for every feed (LiveKit) needs offer.peer here.
        pc = new_peer_connection()
        state = SubscriptionState(
            feed,
            signalled.peer,
            pc,
            time.monotonic(),
            remote_sdp=offer,
            stream_id=stream_id,
            layers=layers,
        )
        state.video_mid = video_mid(offer)
        self.subscriptions[feed] = state

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if media == "live":
                state.consumers.append(asyncio.create_task(self._consume(state, track)))

        await pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
        ssrc = video_ssrc(offer)
        video = next((t for t in pc.getTransceivers() if t.kind == "video"), None)
        if ssrc is not None and video is not None:
            state.keyframes = KeyframeRequester(
                pli_sender(video.receiver, ssrc), lambda: state.layers.size is not None
            )
        if media == "cheap":
            cheap.count_frames(
                pc,
                lambda kind, nbytes: self._counted(state, kind, nbytes),
                on_frame_start=cheap.keyframe_sizes(
                    lambda width, height: self._keyframe(state, width, height)
                ),
            )
        else:
            tap_video(pc, state.layers)
        await pc.setLocalDescription(await pc.createAnswer())
        if media == "cheap":
            cheap.drain_sockets(pc)
        self.impairer.attach(pc)
        state.local_sdp = pc.localDescription.sdp
        await self.link.answer(signalled, state.local_sdp, WEBRTC_UP_TIMEOUT_S)
        state.ice_connected_s = time.monotonic() - state.started_at
        if state.keyframes is not None:
            state.consumers.append(asyncio.create_task(state.keyframes.watch()))

    async def set_layer(self, feed: str, substream: int | None, temporal: int | None) -> None:
        """Ask the server for another simulcast layer of ``feed`` (Janus: VideoRoom
        ``configure``)."""
        state = self.subscriptions.get(feed)
        if state is None:
            raise RuntimeError(f"{self.connection_id} does not receive {feed}")
        if state.video_mid is None:
            raise RuntimeError(f"{self.connection_id} receives no video from {feed}")
        state.layers.request(substream, temporal)
        await self.link.choose_layer(feed, Layer(substream, temporal))

    async def unsubscribe(self, feed: str) -> None:
        state = self.subscriptions.pop(feed)
        await self._snapshot_subscription(state)
        with contextlib.suppress(Exception):  # the server may have hung up on a vanished feed
            await self.link.unsubscribe(feed)
        await self._close_subscription(state)

    async def unpublish(self) -> None:
        state = self.publisher
        if state is None:
            return
        await self._snapshot_publisher(state)
        await self.link.unpublish()
        await _close_publisher(state)
        self.publisher = None

    async def leave(self) -> None:
        """A clean goodbye, as a browser's ``session.disconnect()``: leave the room (Janus ends
        the publication with it), then end the Janus session, which closes the subscriptions.
        No separate unpublish or unsubscribe, so Janus reports one cause for everything."""
        await self.refresh_counters()
        await self.link.leave()
        # Janus and the collector date the leave from here; closing peers that Janus may
        # already have hung up (a departed publisher's subscriptions) can take a second more.
        self.left_wall_ms = int(time.time() * 1000)
        for state in self.subscriptions.values():
            await self._close_subscription(state)
        self.subscriptions.clear()
        if self.publisher is not None:
            await _close_publisher(self.publisher)
            self.publisher = None
        await self.link.close(end_session=True)
        await self.impairer.close()

    async def mute(self, kind: MediaKind, muted: bool) -> None:
        """Disable a track as a browser does (black frames / silence) and tell Janus to stop
        relaying it (VideoRoom ``configure`` with per-stream ``send``)."""
        state = self.publisher
        if state is None:
            raise RuntimeError(
                f"{self.connection_id} publishes nothing to {'' if muted else 'un'}mute"
            )
        track = state.audio if kind == "audio" else state.video
        if track is None:
            raise RuntimeError(f"{self.connection_id} publishes no {kind}")
        track.muted = muted
        mids = [t.mid for t in state.pc.getTransceivers() if t.kind == kind and t.mid is not None]
        await self.link.mute(kind, muted, mids)

    async def vanish(self) -> None:
        """The network disappears: nothing more leaves this participant, not even a DTLS alert
        or a Janus goodbye. Janus has to notice on its own (ICE, session timeout)."""
        self.impairer.silence()
        await self.link.close(end_session=False)
        await self.close_quietly()

    async def forget(self) -> None:
        """The server removed us (kick, room destroyed): close locally, end our Janus session."""
        await self.close_quietly(destroy_session=True)

    def set_impairment(self, up: Impairment, down: Impairment) -> None:
        self.impairer.set(up, down)

    def local_ports(self) -> list[int]:
        """The UDP ports of this participant's peers (its SDP host candidates)."""
        ports: list[int] = []
        sdps = [s.local_sdp for s in self.subscriptions.values()]
        if self.publisher is not None:
            sdps.append(self.publisher.local_sdp)
        for sdp in sdps:
            ports += host_candidate_ports(sdp)
        return ports

    def peer_connections(self) -> list[RTCPeerConnection]:
        pcs = [state.pc for state in self.subscriptions.values()]
        if self.publisher is not None:
            pcs.append(self.publisher.pc)
        return pcs

    async def close_quietly(self, *, destroy_session: bool = False) -> None:
        """Release local resources after a failure, whatever state we are in."""
        for state in self.subscriptions.values():
            await self._close_subscription(state)
        if self.publisher is not None:
            await _close_publisher(self.publisher)
        if destroy_session and not self.link.closed:
            with contextlib.suppress(Exception):
                await self.link.close(end_session=True)
        await self.link.close(end_session=False)
        await self.impairer.close()

    # -- measurements --------------------------------------------------------------------------
    async def peer_views(self) -> list[tuple[str, str, int]]:
        """(what, ICE state, transport bytes so far) per peer, for the live progress view."""
        views: list[tuple[str, str, int]] = []
        if self.publisher is not None:
            sent = await _transport_bytes(self.publisher.pc, "bytesSent")
            views.append(("sends", self.publisher.pc.iceConnectionState, sent))
        for feed, state in self.subscriptions.items():
            received = await _transport_bytes(state.pc, "bytesReceived")
            views.append((f"receives {feed[:6]}…", state.pc.iceConnectionState, received))
        return views

    async def client_stats(self) -> list[dict[str, Any]]:
        """What this browser would report about its endpoints (``peers.client_samples``)."""
        samples: list[dict[str, Any]] = []
        if self.publisher is not None:
            samples += await client_samples.publisher_samples(self.publisher)
        for state in self.subscriptions.values():
            samples += await client_samples.subscription_samples(self.connection_id, state)
        return samples

    async def refresh_counters(self) -> None:
        """Pull byte and packet counts from aiortc's stats into the ledger counters."""
        if self.publisher is not None:
            await self._snapshot_publisher(self.publisher)
        for state in self.subscriptions.values():
            await self._snapshot_subscription(state)

    async def _snapshot_publisher(self, state: PublisherState) -> None:
        stats = await state.pc.getStats()
        for report in stats.values():
            if report.type == "outbound-rtp":
                counters = self.sent.setdefault(report.kind, TrackCounters())
                counters.packets = int(report.packetsSent)
                counters.bytes = int(report.bytesSent)
        if isinstance(state.video, SimulcastVideo):
            counters = self.sent.setdefault("video", TrackCounters())
            counters.packets, counters.bytes = state.video.totals()
        if state.audio is not None:
            self.sent.setdefault("audio", TrackCounters()).frames = state.audio.frames_sent
        if state.video is not None:
            self.sent.setdefault("video", TrackCounters()).frames = state.video.frames_sent

    @staticmethod
    async def _snapshot_subscription(state: SubscriptionState) -> None:
        stats = await state.pc.getStats()
        for report in stats.values():
            # aiortc has no bytesReceived per track; the (bundled) transport has it.
            if report.type == "transport":
                state.bytes_received = int(report.bytesReceived)
            elif report.type == "inbound-rtp" and report.kind == "audio":
                # Video inbound-rtp is unreliable: aiortc lets the RTX SSRC overwrite it.
                state.received.setdefault("audio", TrackCounters()).packets = int(
                    report.packetsReceived
                )

    async def _consume(self, state: SubscriptionState, track: MediaStreamTrack) -> None:
        counters = state.received.setdefault(track.kind, TrackCounters())
        try:
            while True:
                await track.recv()
                counters.frames += 1
                if state.first_frame_s is None and track.kind == "video":
                    state.first_frame_s = time.monotonic() - state.started_at
        except MediaStreamError:
            return

    @staticmethod
    def _counted(state: SubscriptionState, kind: str, nbytes: int) -> None:
        """A frame a cheap subscriber received and did not decode."""
        state.received.setdefault(kind, TrackCounters()).frames += 1
        if kind == "video":
            state.layers.on_frame(nbytes)
            if state.keyframes is not None:
                state.keyframes.on_frame()

    @staticmethod
    def _keyframe(state: SubscriptionState, width: int, height: int) -> None:
        """A key frame reached a cheap subscriber: the first one is the first frame a browser
        could show (inter frames before it are counted, but show nothing)."""
        state.layers.on_keyframe(width, height)
        if state.first_frame_s is None:
            state.first_frame_s = time.monotonic() - state.started_at

    @staticmethod
    async def _close_subscription(state: SubscriptionState) -> None:
        state.layers.close()
        await state.pc.close()
        for task in state.consumers:
            task.cancel()
        for task in state.consumers:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _require_room(self) -> str:
        if self.room is None:
            raise RuntimeError(f"{self.connection_id} has not joined a room")
        return self.room


__all__ = [
    "Participant",
    "PublishOptions",
    "PublisherState",
    "SubscriptionState",
    "TalkOptions",
    "TrackCounters",
]


async def _close_publisher(state: PublisherState) -> None:
    if isinstance(state.video, SimulcastVideo):
        await state.video.stop()  # its streams first: a BYE while the transport is up
    await state.pc.close()
