"""One synthetic participant on LiveKit: signalling, a publisher and a subscriber peer connection.

What a LiveKit client SDK does, with aiortc underneath (behaviour read from livekit-server
v1.13.5 ``pkg/rtc``):

* **join**: the WebSocket with ``auto_subscribe=0``; the ``JoinResponse`` lists the room and
  who is in it. The subscriber connection is *primary* (``subscriber_primary``): the server
  offers on it at once (data channels only at first) and the participant becomes ACTIVE (the
  ``participant_joined`` webhook) when it connects.
* **publish**: an ``AddTrackRequest`` per track, answered by ``TrackPublishedResponse`` with the
  track SID; then the client's offer on the publisher connection (the track's ``cid`` is its
  msid track id), the server's answer, trickle both ways.
* **subscribe**: ``UpdateSubscription`` for a remote participant's track SIDs; the server
  renegotiates the subscriber connection (its offer's ``mid_to_track_id`` says which m-line
  carries which track) and reports ``track_subscribed`` once it forwards. Unsubscribing makes
  the server renegotiate again, with the m-lines inactive (reused later: transceiver reuse).
* **mute**: ``MuteTrackRequest`` (and the local track sends black/silence as a browser does).
* **unpublish**: the transceivers go inactive and the publisher connection is renegotiated.
* **leave**: a ``LeaveRequest`` (reason CLIENT_INITIATED), then everything closes.
* The server ends us with a ``LeaveRequest`` of its own (``removed_reason``): kicked by
  RoomService, room deleted, or a connection it gave up on.

Counters (frames and bytes per track, sent and received) are the simulator's ground truth, kept
here on a path that never goes through the server or the collector.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import aiohttp
from aiortc import RTCPeerConnection, RTCSessionDescription
from livekit.protocol import models
from livekit.protocol import rtc as pb

from simulator.driver.livekit.candidates import parse_candidate_init
from simulator.driver.livekit.keys import LiveKitCredentials
from simulator.driver.livekit.peer import PeerSide
from simulator.driver.livekit.publishing import (
    Publication,
    add_track_request,
    make_tracks,
    sending_transceiver,
    snapshot_sent,
)
from simulator.driver.livekit.receiving import ReceivedMedia, Subscription
from simulator.driver.livekit.signal import Predicate, SignalConnection, SignalError, kind_of
from simulator.driver.livekit.tokens import participant_token
from simulator.impairment.inprocess import InProcessImpairer
from simulator.peers import cheap
from simulator.peers.peer_state import TrackCounters
from simulator.peers.publishing import PublishOptions
from simulator.peers.rtc import new_peer_connection

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 20.0
TRACKS_TIMEOUT_S = 20.0
_KIND = {models.TrackType.AUDIO: "audio", models.TrackType.VIDEO: "video"}


def _published(cid: str) -> Predicate:
    """Matches the ``TrackPublishedResponse`` to the ``AddTrackRequest`` of track ``cid``."""
    return lambda response: response.track_published.cid == cid


class LiveKitParticipant:
    """A synthetic browser in one LiveKit room. Runs on the client namespace's event loop."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        livekit_url: str,
        keys: LiveKitCredentials,
        connection_id: str,
        display: str,
        impairer: InProcessImpairer | None = None,
        *,
        metadata: str = "",
        clips_dir: Path | None = None,
    ) -> None:
        self.http = http
        self.livekit_url = livekit_url
        self.keys = keys
        self.connection_id = connection_id
        """rtcsim's name for the participant: its LiveKit identity."""
        self.display = display
        self.metadata = metadata
        self.room: str | None = None
        self.sid: str | None = None
        """LiveKit's participant SID ("PA_..."), known once joined."""
        self.signal: SignalConnection | None = None
        self.subscriber: PeerSide | None = None
        self.publisher: PeerSide | None = None
        self.publication: Publication | None = None
        self.subscriptions: dict[str, Subscription] = {}  # by publisher identity
        self.sent: dict[str, TrackCounters] = {}
        self.remote: dict[str, models.ParticipantInfo] = {}  # by identity
        self.removed_reason: int | None = None
        """The ``DisconnectReason`` of a ``LeaveRequest`` the server sent us, if any."""
        self.removed = asyncio.Event()
        self.left_wall_ms: int | None = None
        self.sdps: list[str] = []
        """Every SDP either side sent, for the namespace-candidate check."""
        self.impairer = impairer or InProcessImpairer(random.Random(connection_id))
        self.clips_dir = clips_dir
        self._roster_changed = asyncio.Event()
        self._answered_tracks: set[str] = set()  # track SIDs of the offers we answered
        self._answered = asyncio.Event()  # set (and re-armed) at each answer
        self.received: ReceivedMedia | None = None
        self._offer_id = 0
        self._work: asyncio.Queue[pb.SignalResponse] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    async def join(self, room: str) -> None:
        token = participant_token(
            self.keys,
            room=room,
            identity=self.connection_id,
            name=self.display,
            metadata=self.metadata,
        )
        self.subscriber = PeerSide(pb.SignalTarget.SUBSCRIBER, new_peer_connection())
        self.received = ReceivedMedia(self.subscriber.pc, self.subscriptions)
        self._worker = asyncio.create_task(self._work_loop(), name=f"lk-{self.connection_id}")
        self.signal = await SignalConnection.connect(
            self.http, self.livekit_url, token, self._on_message
        )
        join = self.signal.join
        self.room = join.room.name
        self.sid = join.participant.sid
        for info in join.other_participants:
            self.remote[info.identity] = info
        # The server offered the subscriber connection right after the JoinResponse; the
        # participant is ACTIVE (joined, for the webhooks) once that connection is up.
        await self.subscriber.wait_connected(CONNECT_TIMEOUT_S)

    async def publish(self, stream_id: str, options: PublishOptions) -> None:
        signal = self._require_signal()
        if self.publication is not None:
            raise RuntimeError(f"{self.connection_id} already publishes {self.publication}")
        if self.publisher is None:
            self.publisher = PeerSide(pb.SignalTarget.PUBLISHER, new_peer_connection())
        pc = self.publisher.pc
        tracks = await make_tracks(options, self.clips_dir)
        publication = Publication(stream_id, options, tracks)
        for kind, track in tracks.items():
            reply = await signal.request(
                pb.SignalRequest(add_track=add_track_request(stream_id, kind, track, options)),
                "track_published",
                _published(track.id),
            )
            publication.track_sids[kind] = reply.track_published.track.sid
            publication.transceivers[kind] = sending_transceiver(pc, track)
        if options.media == "cheap":
            cheap.prefer_clip_codecs(pc)
        self.publication = publication
        await self._negotiate_publisher()
        if options.media == "cheap":
            # A key frame on PLI/FIR and audio levels, as on Janus: the clips hold one key frame.
            cheap.answer_feedback(pc)
        await self.publisher.wait_connected(CONNECT_TIMEOUT_S)
        publication.ice_connected_s = time.monotonic() - publication.started_at

    async def unpublish(self) -> None:
        """Stop publishing: the transceivers go inactive, the publisher connection is
        renegotiated, and LiveKit ends the tracks (``track_unpublished``)."""
        publication = self.publication
        if publication is None or self.publisher is None:
            return
        await self._snapshot_publisher()
        for transceiver in publication.transceivers.values():
            transceiver.direction = "inactive"
        for track in publication.tracks.values():
            track.muted = True  # nothing worth encoding while inactive
        self.publication = None
        await self._negotiate_publisher()

    async def subscribe(
        self,
        publisher_identity: str,
        stream_id: str = "",
        media: cheap.Media = "live",
        *,
        kinds: frozenset[str] = frozenset({"audio", "video"}),
        timeout_s: float = TRACKS_TIMEOUT_S,
    ) -> None:
        """Receive ``publisher_identity``'s tracks of ``kinds`` (those it publishes, waited for
        up to ``timeout_s``); returns once LiveKit forwards each (``track_subscribed``) and the
        subscriber connection is up."""
        signal = self._require_signal()
        info, tracks = await self._published_tracks(publisher_identity, kinds, timeout_s)
        subscription = Subscription(publisher_identity, info.sid, tracks, media, stream_id)
        self.subscriptions[publisher_identity] = subscription
        await signal.send(
            pb.SignalRequest(
                subscription=pb.UpdateSubscription(
                    track_sids=list(tracks),
                    subscribe=True,
                    participant_tracks=[
                        models.ParticipantTracks(participant_sid=info.sid, track_sids=list(tracks))
                    ],
                )
            )
        )
        # LiveKit answers with a subscriber offer whose mid_to_track_id names the tracks
        # (``track_subscribed`` goes to the *publisher*: "someone subscribed to your track").
        try:
            async with asyncio.timeout(timeout_s):
                while not set(tracks) <= self._answered_tracks:
                    await self._answered.wait()
        except TimeoutError as exc:
            missing = sorted(set(tracks) - self._answered_tracks)
            raise SignalError(
                f"{self.connection_id}: LiveKit offered no m-line for {missing} of "
                f"{publisher_identity} within {timeout_s:g} s"
            ) from exc
        await self._require_subscriber().wait_connected(CONNECT_TIMEOUT_S)

    async def unsubscribe(self, publisher_identity: str) -> None:
        subscription = self.subscriptions.pop(publisher_identity)
        await self._snapshot_subscriptions()
        await self._require_signal().send(
            pb.SignalRequest(
                subscription=pb.UpdateSubscription(
                    track_sids=list(subscription.track_sids),
                    subscribe=False,
                    participant_tracks=[
                        models.ParticipantTracks(
                            participant_sid=subscription.publisher_sid,
                            track_sids=list(subscription.track_sids),
                        )
                    ],
                )
            )
        )

    async def mute(self, kind: str, muted: bool) -> None:
        """Mute a published track as a browser does (black frames / silence) and tell LiveKit
        (``MuteTrackRequest``: it stops forwarding and tells the others)."""
        publication = self.publication
        if publication is None or kind not in publication.tracks:
            raise RuntimeError(f"{self.connection_id} publishes no {kind}")
        publication.tracks[kind].muted = muted
        await self._require_signal().send(
            pb.SignalRequest(
                mute=pb.MuteTrackRequest(sid=publication.track_sids[kind], muted=muted)
            )
        )

    async def leave(self) -> None:
        """A clean goodbye, as a browser's ``room.disconnect()``: one ``LeaveRequest``, then
        the peer connections and the WebSocket close."""
        await self.refresh_counters()
        if self.signal is not None and not self.signal.closed.is_set():
            with contextlib.suppress(SignalError):
                await self.signal.send(
                    pb.SignalRequest(
                        leave=pb.LeaveRequest(
                            reason=models.DisconnectReason.CLIENT_INITIATED,
                            action=pb.LeaveRequest.Action.DISCONNECT,
                        )
                    )
                )
        self.left_wall_ms = int(time.time() * 1000)
        await self.close_quietly()

    async def vanish(self) -> None:
        """The network disappears: nothing more leaves this participant, not a DTLS alert nor
        a LeaveRequest; the WebSocket is left open and silent (no close frame, no FIN) until
        ``forget``/``close_quietly``. LiveKit notices on its own (ICE, then its disconnect
        timer: about 20 s)."""
        self.impairer.silence()
        if self.signal is not None:
            await self.signal.abandon()
        await self._close_local()

    async def forget(self) -> None:
        """The server removed us (kick, room deleted): close locally."""
        await self.close_quietly()

    async def close_quietly(self) -> None:
        """Release everything local, whatever state we are in."""
        await self._close_local()
        if self.signal is not None:
            await self.signal.close()

    async def _close_local(self) -> None:
        """Close the peer connections and the tasks; the WebSocket stays as it is."""
        for side in (self.publisher, self.subscriber):
            if side is not None:
                with contextlib.suppress(Exception):
                    await side.close()
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        if self.received is not None:
            await self.received.close()
        await self.impairer.close()

    def peer_connections(self) -> list[RTCPeerConnection]:
        return [side.pc for side in (self.publisher, self.subscriber) if side is not None]

    # -- signalling ----------------------------------------------------------------------------
    def _on_message(self, response: pb.SignalResponse) -> None:
        """What the server pushes unasked; order matters for offers and candidates, so those
        go through one queue, worked off by one task."""
        kind = kind_of(response)
        if kind in ("offer", "trickle"):
            self._work.put_nowait(response)
        elif kind == "update":
            self._update_roster(response.update.participants)
        elif kind == "leave":
            self.removed_reason = int(response.leave.reason)
            self.removed.set()
        elif kind == "track_unpublished":
            log.debug("%s: LiveKit unpublished %s", self.connection_id, response.track_unpublished)
        elif kind == "subscription_response":
            log.warning("%s: subscription refused: %s", self.connection_id, response)

    def _update_roster(self, infos: Iterable[models.ParticipantInfo]) -> None:
        for info in infos:
            if info.identity == self.connection_id:
                continue
            if info.state == models.ParticipantInfo.DISCONNECTED:
                self.remote.pop(info.identity, None)
            else:
                self.remote[info.identity] = info
        # Wake whoever waits for the roster (``wait_for_roster``), then arm a fresh event.
        self._roster_changed.set()
        self._roster_changed = asyncio.Event()

    async def wait_for_roster(self, ready: Callable[[], bool], timeout_s: float) -> bool:
        """Until ``ready()`` holds for what we know of the others (``remote``, updated by the
        server's participant updates); False if it does not within ``timeout_s``."""
        try:
            async with asyncio.timeout(timeout_s):
                while not ready():
                    await self._roster_changed.wait()
        except TimeoutError:
            return False
        return True

    async def _published_tracks(
        self, identity: str, kinds: frozenset[str], timeout_s: float
    ) -> tuple[models.ParticipantInfo, dict[str, str]]:
        """The remote participant and its track SIDs of ``kinds``, once all are published."""

        def ready() -> bool:
            info = self.remote.get(identity)
            return info is not None and kinds <= {_KIND.get(t.type, "") for t in info.tracks}

        if not await self.wait_for_roster(ready, timeout_s):
            info = self.remote.get(identity)
            have = sorted({_KIND.get(t.type, "?") for t in info.tracks}) if info else None
            raise SignalError(
                f"{self.connection_id}: {identity} did not publish {sorted(kinds)} within "
                f"{timeout_s:g} s (it is {'absent' if info is None else f'publishing {have}'})"
            )
        info = self.remote[identity]
        tracks = {t.sid: _KIND[t.type] for t in info.tracks if _KIND.get(t.type) in kinds}
        return info, tracks

    async def _work_loop(self) -> None:
        while True:
            response = await self._work.get()
            try:
                if kind_of(response) == "offer":
                    await self._answer_subscriber(response.offer)
                else:
                    await self._add_trickled(response.trickle)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception(
                    "%s: handling LiveKit %s failed", self.connection_id, kind_of(response)
                )

    async def _add_trickled(self, trickle: pb.TrickleRequest) -> None:
        side = self.subscriber if trickle.target == pb.SignalTarget.SUBSCRIBER else self.publisher
        if side is None:
            log.warning(
                "%s: candidate for a publisher connection we do not have", self.connection_id
            )
            return
        candidate = parse_candidate_init(trickle.candidateInit) if trickle.candidateInit else None
        if candidate is not None:
            await side.add_remote_candidate(candidate)
        if trickle.final or candidate is None:
            await side.add_remote_candidate(None)

    async def _answer_subscriber(self, offer: pb.SessionDescription) -> None:
        side = self._require_subscriber()
        pc = side.pc
        async with side.lock:
            log.debug(
                "%s: subscriber offer %s for %s",
                self.connection_id,
                offer.id,
                dict(offer.mid_to_track_id),
            )
            received = self._require_received()
            received.offered(dict(offer.mid_to_track_id))
            side.remote_sdp = offer.sdp
            self.sdps.append(offer.sdp)
            await pc.setRemoteDescription(RTCSessionDescription(offer.sdp, "offer"))
            await side.remote_description_set()
            received.set_up_new_receivers()
            await pc.setLocalDescription(await pc.createAnswer())
            received.drain_if_cheap()
            self.impairer.attach(pc)
            side.local_sdp = pc.localDescription.sdp
            self.sdps.append(side.local_sdp)
            side.negotiations += 1
            answer = pb.SessionDescription(type="answer", sdp=side.local_sdp, id=offer.id)
            await self._require_signal().send(pb.SignalRequest(answer=answer))
            await self._trickle_local(side)
            self._answered_tracks = set(offer.mid_to_track_id.values())
            self._answered.set()
            self._answered = asyncio.Event()

    async def _negotiate_publisher(self) -> None:
        side = self.publisher
        if side is None:
            return
        pc = side.pc
        signal = self._require_signal()
        async with side.lock:
            await pc.setLocalDescription(await pc.createOffer())
            self.impairer.attach(pc)
            side.local_sdp = pc.localDescription.sdp
            self.sdps.append(side.local_sdp)
            self._offer_id += 1
            offer_id = self._offer_id
            reply = await signal.request(
                pb.SignalRequest(
                    offer=pb.SessionDescription(type="offer", sdp=side.local_sdp, id=offer_id)
                ),
                "answer",
                lambda r: r.answer.id in (0, offer_id),
            )
            side.remote_sdp = reply.answer.sdp
            self.sdps.append(side.remote_sdp)
            await pc.setRemoteDescription(RTCSessionDescription(side.remote_sdp, "answer"))
            await side.remote_description_set()
            side.negotiations += 1
            await self._trickle_local(side)

    async def _trickle_local(self, side: PeerSide) -> None:
        signal = self._require_signal()
        for candidate in side.local_candidates_once():
            await signal.send(
                pb.SignalRequest(
                    trickle=pb.TrickleRequest(candidateInit=candidate.to_json(), target=side.target)
                )
            )

    # -- measurements --------------------------------------------------------------------------
    async def refresh_counters(self) -> None:
        await self._snapshot_publisher()
        await self._snapshot_subscriptions()

    async def _snapshot_publisher(self) -> None:
        if self.publication is not None:
            await snapshot_sent(self.publication, self.sent)

    async def _snapshot_subscriptions(self) -> None:
        if self.received is not None:
            await self.received.snapshot()

    # -- helpers -------------------------------------------------------------------------------
    def _require_signal(self) -> SignalConnection:
        if self.signal is None:
            raise RuntimeError(f"{self.connection_id} has not joined a room")
        return self.signal

    def _require_received(self) -> ReceivedMedia:
        if self.received is None:
            raise RuntimeError(f"{self.connection_id} has not joined a room")
        return self.received

    def _require_subscriber(self) -> PeerSide:
        if self.subscriber is None:
            raise RuntimeError(f"{self.connection_id} has not joined a room")
        return self.subscriber
