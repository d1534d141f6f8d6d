"""One synthetic participant: a publisher peer and subscriber peers (made of
``simulator.peers``), signalled through the media server's driver (a ``ParticipantLink``,
``simulator.driver.protocol``).

The same participant serves every server; the link's ``plan`` and offers say how its peers are
laid out. On Janus a publication has a peer of its own and each subscription one more (the
offer's ``peer`` is the feed). On LiveKit the server offers one subscriber peer at the join and
renegotiates it for every subscription (each offer says which m-line carries which feed, and
frames are credited per m-line: ``peers.receiving``), trickles its candidates (its SDPs carry
none), and keeps one publisher peer for the participant's whole stay.

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

from simulator.driver.protocol import (
    PUBLISHER_PEER,
    Layer,
    MediaKind,
    ParticipantLink,
    PublishMedia,
    RemoteCandidate,
    SimulcastLayer,
    SubscriberOffer,
    Talking,
)
from simulator.impairment.inprocess import InProcessImpairer
from simulator.impairment.kernel import host_candidate_ports
from simulator.impairment.model import Impairment
from simulator.peers import cheap, client_samples, clips, latency, peer_counts, publishing
from simulator.peers.layer_tracking import LayerTracker
from simulator.peers.peer_state import PublisherState, SubscriptionState, TrackCounters
from simulator.peers.publishing import PublishOptions, TalkOptions
from simulator.peers.receiving import ReceivingPeer
from simulator.peers.rtc import candidate_addresses, new_peer_connection
from simulator.peers.simulcast.publisher import SimulcastVideo
from simulator.peers.trickle import TrickledCandidates, wait_connected

log = logging.getLogger(__name__)

WEBRTC_UP_TIMEOUT_S = 20.0


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
        sent_frames: latency.SentFramesBook | None = None,
    ) -> None:
        self.link = link
        self.connection_id = connection_id
        self.display = display
        self.room: str | None = None
        self.publisher: PublisherState | None = None
        self.subscriptions: dict[str, SubscriptionState] = {}
        self.receivers: dict[str, ReceivingPeer] = {}
        """Subscriber peers by the name the server's offers give them."""
        self.sent: dict[str, TrackCounters] = {}
        self.leave_asked_wall_ms: int | None = None
        self.left_wall_ms: int | None = None
        """Wall-clock ms when our clean leave was sent, and when the server acknowledged it
        (``leave``): the server dates it in between."""
        # One impairer for all the participant's peers: they share one uplink and one downlink.
        self.impairer = impairer or InProcessImpairer(random.Random(connection_id))
        self._down_impaired = False  # cheap subscribers then count after the impairer
        # Where cheap publishers find their pre-encoded clips (made there on first use).
        self.clips_dir = clips_dir
        # When our frames left, and where our subscriptions look theirs up (one-way latency):
        # every participant of the process shares one book unless told otherwise.
        self.sent_frames = sent_frames if sent_frames is not None else latency.PROCESS_BOOK
        self.talking: list[tuple[int, str, bool, float | None]] = []
        """(ms, feed, talking, average dBov) per talking notification received."""
        self._publisher_pc: RTCPeerConnection | None = None
        """The publisher peer while it lives: the publication's, or a kept one (``plan``)."""
        self._publisher_trickle: TrickledCandidates | None = None
        self._sdps: list[str] = []
        """Every SDP a peer of ours set, ours and the server's (the namespace check)."""

    @property
    def server_id(self) -> str:
        """The id the server's events (and so the documents) name this participant by."""
        return self.link.server_id or self.connection_id

    # -- lifecycle ---------------------------------------------------------------------------
    async def join(self, room: str) -> None:
        await self.link.join(
            room,
            on_talking=self._talking,
            on_offer=self._server_offer,
            on_candidate=self._candidate,
        )
        self.room = room
        # A server that offers a subscriber peer at the join (LiveKit) counts the participant
        # in once that peer is up.
        for peer in self.receivers.values():
            await peer.wait_connected(WEBRTC_UP_TIMEOUT_S)

    def _talking(self, notice: Talking) -> None:
        """The server tells every participant of an ``audiolevel_event`` room who talks."""
        self.talking.append(
            (int(time.time() * 1000), notice.feed, notice.talking, notice.level_dbov)
        )

    def _receiver(self, name: str) -> ReceivingPeer:
        peer = self.receivers.get(name)
        if peer is None:
            plan = self.link.plan
            peer = ReceivingPeer(
                name,
                self.subscriptions,
                shared=plan.subscriber_shared,
                dtls_passive=plan.subscriber_dtls_passive,
            )
            self.receivers[name] = peer
        return peer

    async def _server_offer(self, offer: SubscriberOffer) -> str:
        """An offer the server sent unasked: a subscriber peer (re)negotiated."""
        peer = self._receiver(offer.peer)
        answer = await peer.answer(offer.sdp, offer.feed_of)
        self._negotiated(peer.pc, offer.sdp, answer)
        return answer

    async def _candidate(self, candidate: RemoteCandidate) -> None:
        if candidate.peer == PUBLISHER_PEER:
            trickle = self._publisher_trickle
            if trickle is None:
                log.warning("%s: a candidate for a publisher peer we lack", self.connection_id)
                return
        else:
            trickle = self._receiver(candidate.peer).candidates
        await trickle.add(candidate.candidate, candidate.sdp_mid, candidate.sdp_mline_index)

    def _negotiated(self, pc: RTCPeerConnection, *sdps: str) -> None:
        # An in-process downlink impairment must act on cheap receivers too (``peers.cheap``).
        cheap.count_after_impairment(pc, self._down_impaired)
        self.impairer.attach(pc)
        self._sdps += [sdp for sdp in sdps if sdp]

    async def publish(self, stream_id: str, options: PublishOptions) -> None:
        self._require_room()
        plan = self.link.plan
        pc = self._publisher_pc if plan.publisher_kept else None
        if pc is None:
            pc = self._publisher_pc = new_peer_connection()
            self._publisher_trickle = TrickledCandidates(pc)
        clips_dir = self.clips_dir or clips.default_clips_dir()
        audio, video = await publishing.make_tracks(
            options, clips_dir, seed=self.connection_id, rids=plan.simulcast_rids
        )
        made, transceiver = publishing.add_tracks(pc, audio, video, options.media)
        state = PublisherState(stream_id, options, pc, audio, video, time.monotonic())
        state.transceivers = made
        self.publisher = state
        self._note_sent_frames(state)
        await pc.setLocalDescription(await pc.createOffer())
        state.local_sdp = pc.localDescription.sdp
        offer = state.local_sdp
        layers: tuple[SimulcastLayer, ...] = ()
        if isinstance(video, SimulcastVideo) and transceiver is not None:
            offer = video.offer(offer, str(transceiver.mid))
            layers = tuple(
                SimulcastLayer(x.rid, x.width, x.height, x.bitrate_bps) for x in video.layers
            )
        media = PublishMedia(
            audio=options.audio,
            video=options.video,
            width=options.width if options.video else 0,
            height=options.height if options.video else 0,
            layers=layers,
        )
        answer = await self.link.publish(offer, media)
        state.negotiated_wall_ms = int(time.time() * 1000)
        state.remote_sdp = answer.sdp
        state.server_streams = answer.streams
        await pc.setRemoteDescription(RTCSessionDescription(state.remote_sdp, "answer"))
        self._negotiated(pc, offer, state.remote_sdp)
        if self._publisher_trickle is not None:
            await self._publisher_trickle.flush()
        if options.media == "cheap":
            cheap.answer_feedback(pc, transceivers=made)
        if isinstance(video, SimulcastVideo) and transceiver is not None:
            video.start(transceiver, state.remote_sdp, publishing.cname_of(state.local_sdp))
        await self.link.wait_published(WEBRTC_UP_TIMEOUT_S)
        await wait_connected(pc, WEBRTC_UP_TIMEOUT_S, "publisher")
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
        layers.by_size = dict(signalled.layer_sizes)
        # Janus: a new peer per subscription (the offer's peer is the feed); LiveKit: the one
        # subscriber peer offered at the join, renegotiated.
        peer = self._receiver(signalled.peer)
        state = SubscriptionState(
            feed,
            signalled.peer,
            peer.pc,
            time.monotonic(),
            media=media,
            remote_sdp=signalled.sdp,
            stream_id=stream_id,
            layers=layers,
        )
        book = self.sent_frames
        state.latency = latency.LatencyMeter(lambda: book.get(feed), self.link.plan.frame_match)
        state.own_transceivers = lambda: peer.transceivers_of(feed)
        self.subscriptions[feed] = state
        state.local_sdp = await peer.answer(signalled.sdp, signalled.feed_of)
        self._negotiated(peer.pc, signalled.sdp, state.local_sdp)
        state.negotiated_wall_ms = int(time.time() * 1000)
        await self.link.answer(signalled, state.local_sdp, WEBRTC_UP_TIMEOUT_S)
        await peer.wait_connected(WEBRTC_UP_TIMEOUT_S)
        state.ice_connected_s = time.monotonic() - state.started_at
        # Its m-lines may have come in more than one offer (LiveKit): the last one says all.
        state.remote_sdp, state.local_sdp = peer.remote_sdp, peer.local_sdp
        state.video_mid = next(
            (t.mid for t in peer.transceivers_of(feed) if t.kind == "video"), None
        )
        state.keyframes = peer.keyframe_requester(state)
        if state.keyframes is not None:
            state.consumers.append(asyncio.create_task(state.keyframes.watch()))

    async def set_layer(self, feed: str, substream: int | None, temporal: int | None) -> None:
        """Ask the server for another simulcast layer of ``feed`` (Janus: VideoRoom
        ``configure``; LiveKit: ``UpdateTrackSettings``)."""
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
        await peer_counts.count_sent(state, self.sent)
        if not self.link.plan.publisher_kept:
            await self.link.unpublish()
            await self._close_publisher(state)
            self._publisher_pc = self._publisher_trickle = None
            self.publisher = None
            return
        # The peer stays (LiveKit): its transceivers go inactive and it is renegotiated.
        self._close_sent_frames(state)
        if isinstance(state.video, SimulcastVideo):
            await state.video.stop()
        for track in (state.audio, state.video):
            if track is not None:
                track.muted = True  # nothing worth encoding while inactive
        for transceiver in state.transceivers:
            transceiver.direction = "inactive"
        self.publisher = None
        pc = state.pc
        await pc.setLocalDescription(await pc.createOffer())
        answer = await self.link.unpublish(pc.localDescription.sdp)
        if answer is not None:
            await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))

    async def leave(self) -> None:
        """A clean goodbye, as a browser's ``session.disconnect()``: leave the room (the
        server ends the publication with it), then end the server session, which closes the
        subscriptions. No separate unpublish or unsubscribe, so the server reports one cause
        for everything."""
        await self.goodbye()
        await self.hang_up()

    async def goodbye(self) -> None:
        """Leave the room (the server ends the publication with it), its counters read just
        before: what was sent up to the goodbye. The peers stay up until ``hang_up``."""
        await self.refresh_counters()
        self.leave_asked_wall_ms = int(time.time() * 1000)
        await self.link.leave()
        # The server and the collector date the leave from here; closing peers the server
        # may already have hung up (a departed publisher's subscriptions) can take a second.
        self.left_wall_ms = int(time.time() * 1000)

    async def hang_up(self) -> None:
        """After ``goodbye``: close the peers and end the server session (which ends the
        subscriptions)."""
        await self._close_peers()
        await self.link.close(end_session=True)
        await self.impairer.close()

    async def mute(self, kind: MediaKind, muted: bool) -> None:
        """Disable a track as a browser does (black frames / silence) and tell the server to
        stop relaying it (Janus: VideoRoom ``configure`` with per-stream ``send``; LiveKit:
        ``MuteTrackRequest``)."""
        state = self.publisher
        if state is None:
            raise RuntimeError(
                f"{self.connection_id} publishes nothing to {'' if muted else 'un'}mute"
            )
        track = state.audio if kind == "audio" else state.video
        if track is None:
            raise RuntimeError(f"{self.connection_id} publishes no {kind}")
        track.muted = muted
        mids = [t.mid for t in state.transceivers if t.kind == kind and t.mid is not None]
        await self.link.mute(kind, muted, mids)

    async def vanish(self) -> None:
        """The network disappears: nothing more leaves this participant, not even a DTLS alert
        or a goodbye. The server has to notice on its own (ICE, session timeout)."""
        self.impairer.silence()
        await self.link.close(end_session=False)
        await self.close_quietly()

    async def forget(self) -> None:
        """The server removed us (kick, room destroyed): close locally, end our session."""
        await self.close_quietly(destroy_session=True)

    def set_impairment(self, up: Impairment, down: Impairment) -> None:
        self.impairer.set(up, down)
        self._down_impaired = not down.is_none
        for peer in self.receivers.values():
            cheap.count_after_impairment(peer.pc, self._down_impaired)

    def local_ports(self) -> list[int]:
        """The UDP ports of this participant's peers (its SDP host candidates)."""
        ports: list[int] = []
        sdps = [peer.local_sdp for peer in self.receivers.values()]
        if self._publisher_pc is not None and self._publisher_pc.localDescription is not None:
            sdps.append(self._publisher_pc.localDescription.sdp)
        for sdp in sdps:
            for port in host_candidate_ports(sdp):
                if port not in ports:
                    ports.append(port)
        return ports

    def peer_connections(self) -> list[RTCPeerConnection]:
        pcs = [peer.pc for peer in self.receivers.values()]
        if self._publisher_pc is not None:
            pcs.append(self._publisher_pc)
        return pcs

    def candidate_addresses(self) -> list[str]:
        """Every ICE candidate address of every SDP our peers set, ours and the server's, and
        of every candidate the server trickled: each once."""
        found: list[str] = []
        for sdp in self._sdps:
            found += candidate_addresses(sdp)
        for trickle in [
            self._publisher_trickle,
            *(peer.candidates for peer in self.receivers.values()),
        ]:
            if trickle is not None:
                found += trickle.addresses
        return list(dict.fromkeys(found))

    async def close_quietly(self, *, destroy_session: bool = False) -> None:
        """Release local resources after a failure, whatever state we are in."""
        await self._close_peers()
        if destroy_session and not self.link.closed:
            with contextlib.suppress(Exception):
                await self.link.close(end_session=True)
        await self.link.close(end_session=False)
        await self.impairer.close()

    async def _close_peers(self) -> None:
        for state in self.subscriptions.values():
            await self._close_subscription(state, keep_peer=True)
        self.subscriptions.clear()
        for peer in self.receivers.values():
            await peer.close()
        self.receivers.clear()
        if self.publisher is not None:
            await self._close_publisher(self.publisher)
            self.publisher = None
        if self._publisher_pc is not None:
            await self._publisher_pc.close()
        self._publisher_pc = None

    # -- measurements --------------------------------------------------------------------------
    async def peer_views(self) -> list[tuple[str, str, int]]:
        """(what, ICE state, transport bytes so far) per peer, for the live progress view."""
        return await peer_counts.peer_views(self.publisher, self.receivers, self.subscriptions)

    async def client_stats(self) -> list[dict[str, Any]]:
        """What this browser would report about its endpoints (``peers.client_samples``),
        named as the server's events name them."""
        samples: list[dict[str, Any]] = []
        if self.publisher is not None:
            samples += await client_samples.publisher_samples(self.publisher)
        for state in self.subscriptions.values():
            peer = self.receivers.get(state.peer)
            if peer is not None:
                samples += await client_samples.subscription_samples(self.server_id, state, peer)
        return samples

    async def refresh_counters(self) -> None:
        """Pull byte and packet counts from aiortc's stats into the ledger counters."""
        if self.publisher is not None:
            await peer_counts.count_sent(self.publisher, self.sent)
        for state in self.subscriptions.values():
            await self._snapshot_subscription(state)

    async def refresh_subscription(self, feed: str) -> None:
        """Pull one subscription's counts from aiortc's stats (its publisher just ended)."""
        state = self.subscriptions.get(feed)
        if state is not None:
            await self._snapshot_subscription(state)

    async def _snapshot_subscription(self, state: SubscriptionState) -> None:
        peer = self.receivers.get(state.peer)
        if peer is not None:
            await peer.snapshot(state)

    async def _close_subscription(
        self, state: SubscriptionState, *, keep_peer: bool = False
    ) -> None:
        """Its tasks end; its peer closes with it unless it is shared (``plan``)."""
        state.layers.close()
        for task in state.consumers:
            task.cancel()
        for task in state.consumers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if keep_peer or self.link.plan.subscriber_shared:
            return
        peer = self.receivers.pop(state.peer, None)
        if peer is not None:
            await peer.close()

    def _note_sent_frames(self, state: PublisherState) -> None:
        """Log when each frame of a (non-simulcast) video leaves, for our subscribers'
        latency; a simulcast video's picture ids do not survive the SFU (``peers.latency``)."""
        for transceiver in state.transceivers:
            sender = transceiver.sender
            if transceiver.kind == "video" and sender.track is not None:
                state.sent_frames = self.sent_frames.open(self.connection_id)
                latency.note_sent_frames(sender, state.sent_frames)

    def _close_sent_frames(self, state: PublisherState) -> None:
        if state.sent_frames is not None:
            self.sent_frames.close(self.connection_id, state.sent_frames)
            state.sent_frames = None

    async def _close_publisher(self, state: PublisherState) -> None:
        self._close_sent_frames(state)
        await _close_publisher(state)

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
