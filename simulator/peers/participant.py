"""One synthetic participant: a Janus session with a publisher peer and subscriber peers.

It keeps its own counters (frames and bytes sent and received per track): that is the
simulator's ground truth, recorded on a path that never goes through the collector.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from simulator.driver import videoroom
from simulator.driver.janus_http import JanusHandle, JanusSession
from simulator.impairment.inprocess import InProcessImpairer
from simulator.impairment.kernel import host_candidate_ports
from simulator.impairment.model import Impairment
from simulator.peers import cheap
from simulator.peers.rtc import new_peer_connection
from simulator.peers.tracks import SweepVideoTrack, ToneAudioTrack

log = logging.getLogger(__name__)

WEBRTC_UP_TIMEOUT_S = 20.0
# aiortc reports jitter in RTP timestamp units; OpenVidu's webrtcStats jitter is in seconds.
_CLOCK_HZ = {"audio": 48_000, "video": 90_000}


@dataclass(frozen=True)
class PublishOptions:
    """What a publisher sends; mirrors OpenVidu's publisher properties."""

    audio: bool = True
    video: bool = True
    width: int = 640
    height: int = 480
    fps: int = 30
    media: cheap.Media = "live"


@dataclass
class TrackCounters:
    """Media one side of one track saw."""

    frames: int = 0
    packets: int = 0
    bytes: int = 0


@dataclass
class PublisherState:
    stream_id: str
    options: PublishOptions
    pc: RTCPeerConnection
    audio: ToneAudioTrack | cheap.PacketTrack | None
    video: SweepVideoTrack | cheap.PacketTrack | None
    started_at: float
    ice_connected_s: float | None = None
    local_sdp: str = ""
    remote_sdp: str = ""


@dataclass
class SubscriptionState:
    feed: str
    handle: JanusHandle
    pc: RTCPeerConnection
    started_at: float
    received: dict[str, TrackCounters] = field(default_factory=dict)
    first_frame_s: float | None = None
    bytes_received: int = 0
    consumers: list[asyncio.Task[None]] = field(default_factory=list)
    local_sdp: str = ""
    remote_sdp: str = ""
    stream_id: str = ""


async def _transport_bytes(pc: RTCPeerConnection, field_name: str) -> int:
    stats = await pc.getStats()
    return sum(int(getattr(r, field_name, 0)) for r in stats.values() if r.type == "transport")


class Participant:
    """A synthetic browser in one room. Runs on the event loop of the client namespace."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        janus_url: str,
        connection_id: str,
        display: str,
        impairer: InProcessImpairer | None = None,
        *,
        clips_dir: Path | None = None,
    ) -> None:
        self.http = http
        self.janus_url = janus_url
        self.connection_id = connection_id
        self.display = display
        self.room: str | None = None
        self.session: JanusSession | None = None
        self.control: JanusHandle | None = None
        self.publisher: PublisherState | None = None
        self.subscriptions: dict[str, SubscriptionState] = {}
        self.sent: dict[str, TrackCounters] = {}
        self.left_wall_ms: int | None = None
        """Wall-clock ms when Janus acknowledged our clean leave (``leave``)."""
        # One impairer for all the participant's peers: they share one uplink and one downlink.
        self.impairer = impairer or InProcessImpairer(random.Random(connection_id))
        # Where cheap publishers find their pre-encoded clips (made there on first use).
        self.clips_dir = clips_dir

    # -- lifecycle ---------------------------------------------------------------------------
    async def join(self, room: str) -> None:
        self.session = await JanusSession.create(self.http, self.janus_url)
        self.control = await videoroom.join_as_participant(
            self.session, room, self.connection_id, self.display
        )
        self.room = room

    async def publish(self, stream_id: str, options: PublishOptions) -> None:
        control = self._require_control()
        pc = new_peer_connection()
        audio, video = await self._tracks(options)
        for track in (audio, video):
            if track is not None:
                pc.addTrack(track)
        if options.media == "cheap":
            cheap.prefer_clip_codecs(pc)
        state = PublisherState(stream_id, options, pc, audio, video, time.monotonic())
        self.publisher = state
        await pc.setLocalDescription(await pc.createOffer())
        self.impairer.attach(pc)
        state.local_sdp = pc.localDescription.sdp
        reply = await videoroom.publish(
            control, state.local_sdp, audio=options.audio, video=options.video
        )
        if reply.jsep is None:
            raise RuntimeError(f"{self.connection_id}: Janus sent no SDP answer to our offer")
        state.remote_sdp = str(reply.jsep["sdp"])
        await pc.setRemoteDescription(RTCSessionDescription(state.remote_sdp, "answer"))
        await control.wait_for("webrtcup", timeout_s=WEBRTC_UP_TIMEOUT_S)
        state.ice_connected_s = time.monotonic() - state.started_at

    async def _tracks(
        self, options: PublishOptions
    ) -> tuple[
        ToneAudioTrack | cheap.PacketTrack | None, SweepVideoTrack | cheap.PacketTrack | None
    ]:
        if options.media == "live":
            audio = ToneAudioTrack() if options.audio else None
            video = (
                SweepVideoTrack(options.width, options.height, options.fps)
                if options.video
                else None
            )
            return audio, video
        clips = self.clips_dir or cheap.default_clips_dir()
        # Making a clip the first time encodes a few seconds of video: not on the event loop.
        cheap_audio = (
            await asyncio.to_thread(cheap.packet_audio_track, clips) if options.audio else None
        )
        cheap_video = (
            await asyncio.to_thread(
                cheap.packet_video_track, clips, options.width, options.height, options.fps
            )
            if options.video
            else None
        )
        return cheap_audio, cheap_video

    async def subscribe(self, feed: str, stream_id: str = "", media: cheap.Media = "live") -> None:
        session, room = self._require_session(), self._require_room()
        handle, offer = await videoroom.subscribe(session, room, self.connection_id, feed)
        pc = new_peer_connection()
        state = SubscriptionState(
            feed, handle, pc, time.monotonic(), remote_sdp=offer, stream_id=stream_id
        )
        self.subscriptions[feed] = state

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if media == "live":
                state.consumers.append(asyncio.create_task(self._consume(state, track)))

        await pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
        if media == "cheap":
            cheap.count_frames(pc, lambda kind, nbytes: self._counted(state, kind, nbytes))
        await pc.setLocalDescription(await pc.createAnswer())
        if media == "cheap":
            cheap.drain_sockets(pc)
        self.impairer.attach(pc)
        state.local_sdp = pc.localDescription.sdp
        await videoroom.start(handle, state.local_sdp)
        await handle.wait_for("webrtcup", timeout_s=WEBRTC_UP_TIMEOUT_S)

    async def unsubscribe(self, feed: str) -> None:
        state = self.subscriptions.pop(feed)
        await self._snapshot_subscription(state)
        with contextlib.suppress(Exception):
            await videoroom.leave(state.handle)
        await self._close_subscription(state)
        with contextlib.suppress(Exception):  # Janus may have hung up on a vanished feed
            await state.handle.detach()

    async def unpublish(self) -> None:
        state = self.publisher
        if state is None:
            return
        await self._snapshot_publisher(state)
        await videoroom.unpublish(self._require_control())
        await state.pc.close()
        self.publisher = None

    async def leave(self) -> None:
        """A clean goodbye, as a browser's ``session.disconnect()``: leave the room (Janus ends
        the publication with it), then end the Janus session, which closes the subscriptions.
        No separate unpublish or unsubscribe, so Janus reports one cause for everything."""
        await self.refresh_counters()
        if self.control is not None:
            await videoroom.leave(self.control)
        # Janus and the collector date the leave from here; closing peers that Janus may
        # already have hung up (a departed publisher's subscriptions) can take a second more.
        self.left_wall_ms = int(time.time() * 1000)
        for state in self.subscriptions.values():
            await self._close_subscription(state)
        self.subscriptions.clear()
        if self.publisher is not None:
            await self.publisher.pc.close()
            self.publisher = None
        self.control = None
        if self.session is not None:
            await self.session.destroy()
        await self.impairer.close()

    async def mute(self, kind: str, muted: bool) -> None:
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
        await self._require_control().message(
            {"request": "configure", "streams": [{"mid": mid, "send": not muted} for mid in mids]}
        )

    async def vanish(self) -> None:
        """The network disappears: nothing more leaves this participant, not even a DTLS alert
        or a Janus goodbye. Janus has to notice on its own (ICE, session timeout)."""
        self.impairer.silence()
        if self.session is not None:
            await self.session.abandon()
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
            await self.publisher.pc.close()
        if self.session is not None:
            if destroy_session and not self.session.closed:
                with contextlib.suppress(Exception):
                    await self.session.destroy()
            await self.session.abandon()
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
        """What this browser would report about its endpoints, from aiortc's ``getStats()``.

        One sample per endpoint and media type, named as the collector names endpoints
        (publisher: its streamId; subscriber: ``<own connectionId>_<streamId>``).
        """
        samples: list[dict[str, Any]] = []
        if self.publisher is not None:
            stats = await self.publisher.pc.getStats()
            by_kind: dict[str, dict[str, Any]] = {}
            for report in stats.values():
                if report.type == "outbound-rtp":
                    by_kind.setdefault(report.kind, {}).update(
                        packetsSent=int(report.packetsSent), bytesSent=int(report.bytesSent)
                    )
                elif report.type == "remote-inbound-rtp":
                    by_kind.setdefault(report.kind, {}).update(
                        packetsLost=int(report.packetsLost),
                        fractionLost=float(report.fractionLost),
                        roundTripTime=float(report.roundTripTime or 0.0),
                        jitter=float(report.jitter or 0.0) / _CLOCK_HZ[report.kind],
                    )
            for kind, fields in by_kind.items():
                track = self.publisher.audio if kind == "audio" else self.publisher.video
                if track is not None:
                    fields["framesSent"] = track.frames_sent
                samples.append({"endpoint": self.publisher.stream_id, "mediaType": kind, **fields})
        for state in self.subscriptions.values():
            stats = await state.pc.getStats()
            bytes_received = 0
            audio: dict[str, Any] = {}
            for report in stats.values():
                if report.type == "transport":
                    bytes_received = int(report.bytesReceived)
                elif report.type == "inbound-rtp" and report.kind == "audio":
                    # Video inbound-rtp is unreliable in aiortc (the RTX SSRC overwrites it).
                    audio = {
                        "packetsReceived": int(report.packetsReceived),
                        "packetsLost": int(report.packetsLost),
                        "jitter": float(report.jitter or 0.0) / _CLOCK_HZ["audio"],
                    }
            endpoint = f"{self.connection_id}_{state.stream_id}"
            for kind, counters in state.received.items():
                fields = dict(audio) if kind == "audio" else {}
                fields["framesReceived"] = counters.frames
                if kind == "video":
                    fields["transportBytesReceived"] = bytes_received
                samples.append({"endpoint": endpoint, "mediaType": kind, **fields})
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
        if state.first_frame_s is None and kind == "video":
            state.first_frame_s = time.monotonic() - state.started_at

    @staticmethod
    async def _close_subscription(state: SubscriptionState) -> None:
        await state.pc.close()
        for task in state.consumers:
            task.cancel()
        for task in state.consumers:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _require_session(self) -> JanusSession:
        if self.session is None:
            raise RuntimeError(f"{self.connection_id} has not joined a room")
        return self.session

    def _require_control(self) -> JanusHandle:
        if self.control is None:
            raise RuntimeError(f"{self.connection_id} has not joined a room")
        return self.control

    def _require_room(self) -> str:
        if self.room is None:
            raise RuntimeError(f"{self.connection_id} has not joined a room")
        return self.room
