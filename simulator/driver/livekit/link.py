"""One participant's signalling with LiveKit, behind ``ParticipantLink``: what a LiveKit client
SDK does, with the participant's aiortc peers underneath (behaviour read from livekit-server
v1.13.5 ``pkg/rtc``).

* **join**: the WebSocket with ``auto_subscribe=0``; the ``JoinResponse`` lists the room and
  who is in it. The subscriber connection is *primary* (``subscriber_primary``): the server
  offers it at once (data channels only at first) and the participant becomes ACTIVE (the
  ``participant_joined`` webhook) when it connects, so ``join`` returns once that first offer
  is answered and the participant waits for the peer to come up.
* **publish**: an ``AddTrackRequest`` per track the offer sends, answered by
  ``TrackPublishedResponse`` with the track's SID; then the offer on the publisher connection
  (each m-line's msid names its track's ``cid``) and the server's answer. The publisher peer
  outlives a publication: **unpublish** is that peer's renegotiation with its transceivers
  inactive (there is no request for it), after which LiveKit ends the tracks.
* **subscribe**: ``UpdateSubscription`` for a remote participant's track SIDs; the server
  renegotiates the subscriber connection (its offer's ``mid_to_track_id`` says which m-line
  carries which track: ``SubscriberOffer.carries``), and may bring the tracks in more than one
  offer, so ``answer`` returns once every track of the feed was offered and answered.
  Unsubscribing makes the server renegotiate again, without the m-lines.
* **mute**: ``MuteTrackRequest``. **layer**: ``UpdateTrackSettings`` with the quality.
* **talking**: ``SpeakersChanged``, LiveKit's active speakers, as the room's talking notices.
* **leave**: a ``LeaveRequest`` (reason CLIENT_INITIATED). The server ends us with a
  ``LeaveRequest`` of its own (``removed_reason``): kicked by RoomService, room deleted, or a
  connection it gave up on.

Everything the server sends unasked goes through one queue, worked off in order by one task:
an offer the participant asked for (a subscription) is handed to ``subscribe``'s caller and the
queue waits for its answer; any other is answered through ``on_offer``; trickled candidates go
to ``on_candidate``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp
from livekit.protocol import models
from livekit.protocol import rtc as pb

from simulator.driver.livekit.candidates import local_candidates, parse_candidate_init
from simulator.driver.livekit.keys import LiveKitCredentials
from simulator.driver.livekit.roster import Roster
from simulator.driver.livekit.sdp import media_sections
from simulator.driver.livekit.signal import SignalConnection, SignalError, kind_of
from simulator.driver.livekit.tokens import participant_token
from simulator.driver.protocol import (
    PUBLISHER_PEER,
    Layer,
    MediaKind,
    OnCandidate,
    OnLayer,
    OnOffer,
    OnTalking,
    PeerPlan,
    PublishAnswer,
    PublishMedia,
    RemoteCandidate,
    SubscriberOffer,
    Talking,
)
from simulator.peers.latency import FrameMatch

log = logging.getLogger(__name__)

SUBSCRIBER_PEER = "subscriber"
LIVEKIT_PLAN = PeerPlan(
    subscriber_shared=True,
    publisher_kept=True,
    simulcast_rids=("f", "h", "q"),
    frame_match=FrameMatch.RTP_TIMESTAMP,
)
"""LiveKit's rids: ``f``ull, ``h``alf and ``q``uarter resolution (``buffer/videolayerutils.go``:
``q`` is spatial layer 0, ``f`` layer 2 when three are published)."""
CONNECT_TIMEOUT_S = 20.0
TRACKS_TIMEOUT_S = 20.0
HANDOVER_TIMEOUT_S = 30.0
LEAVE_ACK_TIMEOUT_S = 3.0
"""How long a clean leave waits for LiveKit to close the signalling after its LeaveRequest."""
"""How long the queue waits for the answer to an offer handed to ``subscribe``'s caller."""
_TYPE = {"audio": models.TrackType.AUDIO, "video": models.TrackType.VIDEO}
_SOURCE = {"audio": models.TrackSource.MICROPHONE, "video": models.TrackSource.CAMERA}
_QUALITY = (models.VideoQuality.LOW, models.VideoQuality.MEDIUM, models.VideoQuality.HIGH)
"""By Janus's substream numbering: 0 the lowest."""


@dataclass
class _Wanted:
    """A subscription asked for: its tracks, and the offer that first brings one of them."""

    tracks: dict[str, str]  # track SID -> kind
    offer: asyncio.Future[SubscriberOffer] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class LiveKitLink:
    """A participant's LiveKit signalling (identity = rtcsim's connection id)."""

    plan = LIVEKIT_PLAN

    def __init__(
        self,
        http: aiohttp.ClientSession,
        url: str,
        keys: LiveKitCredentials,
        connection_id: str,
        display: str,
        *,
        metadata: str = "",
    ) -> None:
        self._http = http
        self._url = url
        self._keys = keys
        self.connection_id = connection_id
        self.display = display
        self.metadata = metadata
        self.room: str | None = None
        self.sid: str | None = None
        """The participant SID ("PA_..."), known once joined."""
        self.signal: SignalConnection | None = None
        self.roster = Roster(connection_id)
        self.removed_reason: int | None = None
        """The ``DisconnectReason`` of a ``LeaveRequest`` the server sent, if any."""
        self.removed = asyncio.Event()
        self.published: dict[str, str] = {}
        """This publication's track SIDs by kind."""
        self.subscribed: dict[str, dict[str, str]] = {}
        """Track SIDs (-> kind) per feed we subscribe to."""
        self._on_offer: OnOffer | None = None
        self._on_candidate: OnCandidate | None = None
        self._on_talking: OnTalking | None = None
        self._wanted: dict[str, _Wanted] = {}
        self._handed: dict[int, asyncio.Future[str]] = {}  # offer id -> our answer
        self._offered: dict[str, str] = {}  # the last subscriber offer's mid -> track SID
        self._answered_tracks: set[str] = set()  # ... once we answered it
        self._answered = asyncio.Event()  # set (and re-armed) at each subscriber answer
        self._first_answer = asyncio.Event()
        self._trickled: set[int] = set()  # SignalTargets whose local candidates went out
        self._offer_id = 0
        self._work: asyncio.Queue[pb.SignalResponse] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None

    @property
    def closed(self) -> bool:
        return self.signal is None or self.signal.closed.is_set()

    @property
    def server_id(self) -> str | None:
        return self.sid

    # -- joining and leaving -------------------------------------------------------------------
    async def join(
        self,
        room: str,
        on_talking: OnTalking | None = None,
        *,
        on_offer: OnOffer | None = None,
        on_candidate: OnCandidate | None = None,
    ) -> None:
        if on_offer is None or on_candidate is None:
            raise ValueError("a LiveKit participant answers the server's offers: on_offer")
        self._on_offer, self._on_candidate, self._on_talking = on_offer, on_candidate, on_talking
        token = participant_token(
            self._keys,
            room=room,
            identity=self.connection_id,
            name=self.display,
            metadata=self.metadata,
        )
        self._worker = asyncio.create_task(self._work_loop(), name=f"lk-{self.connection_id}")
        self.signal = await SignalConnection.connect(self._http, self._url, token, self._pushed)
        join = self.signal.join
        self.room = join.room.name
        self.sid = join.participant.sid
        self.roster.update([join.participant, *join.other_participants])
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                await self._first_answer.wait()
        except TimeoutError:
            raise SignalError(
                f"{self.connection_id}: LiveKit offered no subscriber connection within "
                f"{CONNECT_TIMEOUT_S:g} s of the join"
            ) from None

    async def leave(self) -> None:
        """As a browser's ``room.disconnect()``: one ``LeaveRequest``."""
        signal = self.signal
        if signal is None or signal.closed.is_set():
            return
        signal.stop_pings()
        with contextlib.suppress(SignalError):
            await signal.send(
                pb.SignalRequest(
                    leave=pb.LeaveRequest(
                        reason=models.DisconnectReason.CLIENT_INITIATED,
                        action=pb.LeaveRequest.Action.DISCONNECT,
                    )
                )
            )
        # LiveKit closes the signalling once it has let us go: until then a RoomService call
        # (the run's last DeleteRoom) could overtake the leave and end us ROOM_DELETED.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(signal.closed.wait(), LEAVE_ACK_TIMEOUT_S)

    async def close(self, *, end_session: bool) -> None:
        """``end_session``: close the WebSocket. Otherwise the network vanished: it stays open
        and silent (no close frame, no FIN) until the run's HTTP session goes, so LiveKit can
        only learn from its own timers that nobody is there."""
        await self._stop_worker()
        if self.signal is None:
            return
        if end_session:
            await self.signal.close()
        else:
            await self.signal.abandon()

    async def _stop_worker(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None and worker is not asyncio.current_task():
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    # -- publishing ----------------------------------------------------------------------------
    async def publish(self, offer_sdp: str, media: PublishMedia) -> PublishAnswer:
        signal = self._require_signal()
        self.published = {}
        streams: list[dict[str, Any]] = []
        for section in media_sections(offer_sdp):
            sends = section.sends or section.simulcast  # aiortc's simulcast m-line: recvonly
            if not sends or section.track_id is None:
                continue
            request = _add_track(section.kind, section.track_id, media)
            cid = section.track_id
            reply = await signal.request(
                pb.SignalRequest(add_track=request),
                "track_published",
                lambda r, cid=cid: r.track_published.cid == cid,  # type: ignore[misc]
            )
            track = reply.track_published.track
            self.published[section.kind] = track.sid
            streams.append(track_stream(track))
        answer = await self._negotiate_publisher(offer_sdp)
        return PublishAnswer(answer, streams)

    async def wait_published(self, timeout_s: float) -> None:
        """LiveKit says nothing more to the publisher: its media is up when its peer is."""

    async def unpublish(self, offer_sdp: str | None = None) -> str | None:
        if offer_sdp is None:
            raise ValueError("LiveKit unpublishes by renegotiating the publisher peer")
        self.published = {}
        return await self._negotiate_publisher(offer_sdp)

    async def mute(self, kind: MediaKind, muted: bool, mids: Sequence[str]) -> None:
        sid = self.published.get(kind)
        if sid is None:
            raise RuntimeError(f"{self.connection_id} publishes no {kind} track on LiveKit")
        request = pb.SignalRequest(mute=pb.MuteTrackRequest(sid=sid, muted=muted))
        await self._require_signal().send(request)

    async def _negotiate_publisher(self, offer_sdp: str) -> str:
        signal = self._require_signal()
        self._offer_id += 1
        offer_id = self._offer_id
        reply = await signal.request(
            pb.SignalRequest(offer=pb.SessionDescription(type="offer", sdp=offer_sdp, id=offer_id)),
            "answer",
            lambda r: r.answer.id in (0, offer_id),
        )
        await self._trickle_local(pb.SignalTarget.PUBLISHER, offer_sdp)
        return str(reply.answer.sdp)

    # -- subscribing ---------------------------------------------------------------------------
    async def subscribe(
        self, feed: str, layer: Layer | None = None, on_layer: OnLayer | None = None
    ) -> SubscriberOffer:
        """``on_layer`` is never called: LiveKit does not tell a subscriber which layer it
        forwards (its ``stream_state_update`` says only active or paused). The offer's
        ``layer_sizes`` (the feed's video ``TrackInfo.layers``) let the participant see it in
        the key frames' sizes instead."""
        signal = self._require_signal()
        tracks = await self.roster.published(feed, TRACKS_TIMEOUT_S)
        if not tracks:
            raise SignalError(
                f"{self.connection_id}: {feed} published no track within {TRACKS_TIMEOUT_S:g} s"
            )
        info = self.roster.others[feed]
        wanted = self._wanted[feed] = _Wanted(tracks)
        self.subscribed[feed] = tracks
        await signal.send(_subscription(info.sid, tracks, subscribe=True))
        try:
            async with asyncio.timeout(TRACKS_TIMEOUT_S):
                offer = await wanted.offer
        except TimeoutError:
            raise SignalError(
                f"{self.connection_id}: LiveKit offered none of {feed}'s tracks within "
                f"{TRACKS_TIMEOUT_S:g} s"
            ) from None
        finally:
            self._wanted.pop(feed, None)
        if layer is not None and layer.substream is not None:
            await self.choose_layer(feed, layer)
        return replace(offer, layer_sizes=layer_sizes(info))

    async def answer(self, offer: SubscriberOffer, answer_sdp: str, timeout_s: float) -> None:
        """Our answer to the handed offer; then until every track of the feed was answered."""
        handed = next((f for f in self._handed.values() if not f.done()), None)
        if handed is not None:
            handed.set_result(answer_sdp)
        tracks = set(self.subscribed.get(offer.feed, {}))
        try:
            async with asyncio.timeout(timeout_s):
                while not tracks <= self._answered_tracks:
                    await self._answered.wait()
        except TimeoutError:
            missing = sorted(tracks - self._answered_tracks)
            raise SignalError(
                f"{self.connection_id}: LiveKit offered no m-line for {missing} of "
                f"{offer.feed} within {timeout_s:g} s"
            ) from None

    async def choose_layer(self, feed: str, layer: Layer) -> None:
        """``UpdateTrackSettings`` for the feed's video: LiveKit's quality by Janus's numbering
        of substreams (0 the lowest); a temporal layer is LiveKit's to choose."""
        video = [sid for sid, kind in self.subscribed.get(feed, {}).items() if kind == "video"]
        if not video:
            raise RuntimeError(f"{self.connection_id} receives no video from {feed}")
        substream = len(_QUALITY) - 1 if layer.substream is None else layer.substream
        quality = _QUALITY[max(0, min(substream, len(_QUALITY) - 1))]
        settings = pb.UpdateTrackSettings(track_sids=video, quality=quality)
        await self._require_signal().send(pb.SignalRequest(track_setting=settings))

    async def unsubscribe(self, feed: str) -> None:
        tracks = self.subscribed.pop(feed, None)
        info = self.roster.others.get(feed)
        if not tracks or self.closed:
            return
        publisher_sid = info.sid if info is not None else ""
        await self._require_signal().send(_subscription(publisher_sid, tracks, subscribe=False))

    # -- what the server sends unasked ---------------------------------------------------------
    def _pushed(self, response: pb.SignalResponse) -> None:
        """Offers and candidates go through the queue (their order matters); the rest here."""
        kind = kind_of(response)
        if kind in ("offer", "trickle"):
            self._work.put_nowait(response)
        elif kind == "update":
            self.roster.update(response.update.participants)
        elif kind == "leave":
            self.removed_reason = int(response.leave.reason)
            self.removed.set()
        elif kind == "speakers_changed":
            self._speakers(response.speakers_changed.speakers)
        elif kind == "subscription_response":
            log.warning("%s: subscription refused: %s", self.connection_id, response)

    def _speakers(self, speakers: Sequence[models.SpeakerInfo]) -> None:
        """LiveKit's level is 10^(-dBov/20) (``sfu/audio/audiolevel.go``), given back as dBov."""
        if self._on_talking is None:
            return
        for speaker in speakers:
            feed = self.roster.by_sid.get(speaker.sid, speaker.sid)
            level = -20 * math.log10(speaker.level) if speaker.level > 0 else None
            self._on_talking(Talking(feed=feed, talking=speaker.active, level_dbov=level))

    async def _work_loop(self) -> None:
        while True:
            response = await self._work.get()
            try:
                if kind_of(response) == "offer":
                    await self._subscriber_offer(response.offer)
                else:
                    await self._trickled_in(response.trickle)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s: LiveKit's %s failed", self.connection_id, kind_of(response))

    async def _subscriber_offer(self, offer: pb.SessionDescription) -> None:
        self._offered = dict(offer.mid_to_track_id)
        owner = {sid: feed for feed, tracks in self.subscribed.items() for sid in tracks}
        carries = {mid: owner[sid] for mid, sid in self._offered.items() if sid in owner}
        asked = next(
            (
                feed
                for feed, wanted in self._wanted.items()
                if not wanted.offer.done() and set(wanted.tracks) & set(self._offered.values())
            ),
            "",
        )
        signalled = SubscriberOffer(asked, SUBSCRIBER_PEER, offer.sdp, carries)
        if asked:
            answered: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            self._handed[offer.id] = answered
            self._wanted[asked].offer.set_result(signalled)
            try:
                async with asyncio.timeout(HANDOVER_TIMEOUT_S):
                    answer = await answered
            finally:
                self._handed.pop(offer.id, None)
        else:
            assert self._on_offer is not None
            answer = await self._on_offer(signalled)
        reply = pb.SessionDescription(type="answer", sdp=answer, id=offer.id)
        await self._require_signal().send(pb.SignalRequest(answer=reply))
        await self._trickle_local(pb.SignalTarget.SUBSCRIBER, answer)
        self._answered_tracks = set(self._offered.values())
        self._first_answer.set()
        self._answered.set()
        self._answered = asyncio.Event()

    async def _trickled_in(self, trickle: pb.TrickleRequest) -> None:
        assert self._on_candidate is not None
        peer = PUBLISHER_PEER if trickle.target == pb.SignalTarget.PUBLISHER else SUBSCRIBER_PEER
        candidate = parse_candidate_init(trickle.candidateInit) if trickle.candidateInit else None
        if candidate is not None:
            await self._on_candidate(
                RemoteCandidate(
                    peer, candidate.candidate, candidate.sdp_mid, candidate.sdp_mline_index
                )
            )
        if trickle.final or candidate is None:
            await self._on_candidate(RemoteCandidate(peer, None))

    async def _trickle_local(self, target: pb.SignalTarget, sdp: str) -> None:
        """Our candidates, once per connection, as a browser trickles them (aiortc gathers
        once per peer connection; later descriptions repeat the same ones)."""
        if target in self._trickled:
            return
        self._trickled.add(target)
        signal = self._require_signal()
        for candidate in local_candidates(sdp):
            init = pb.TrickleRequest(candidateInit=candidate.to_json(), target=target)
            await signal.send(pb.SignalRequest(trickle=init))

    def _require_signal(self) -> SignalConnection:
        if self.signal is None:
            raise RuntimeError(f"{self.connection_id} has not joined a room")
        return self.signal


def track_stream(track: models.TrackInfo) -> dict[str, Any]:
    """A published track as LiveKit registered it, in the shape of Janus's ``configured``
    streams: ``simulcast`` when LiveKit took more than one layer of the video
    (``TrackInfo.layers``, by substream: 0 the lowest), what the ledger records as the
    server's account."""
    kind = "video" if track.type == models.TrackType.VIDEO else "audio"
    layers = [
        {
            "substream": _QUALITY.index(layer.quality),
            "rid": layer.rid,
            "width": layer.width,
            "height": layer.height,
            "bitrate_bps": layer.bitrate,
        }
        for layer in track.layers
        if layer.quality in _QUALITY
    ]
    stream: dict[str, Any] = {"type": kind, "mid": track.mid, "sid": track.sid}
    if kind == "video":
        # ``TrackInfo.simulcast`` turns true only once the layers' media arrive; the layers
        # are listed from the publication on.
        stream["simulcast"] = len(layers) > 1
        stream["layers"] = sorted(layers, key=lambda x: int(x["substream"]))
    return stream


def layer_sizes(info: models.ParticipantInfo) -> dict[tuple[int, int], int]:
    """The picture size of each layer of ``info``'s video -> its substream (0 the lowest)."""
    return {
        (layer.width, layer.height): _QUALITY.index(layer.quality)
        for track in info.tracks
        if track.type == models.TrackType.VIDEO
        for layer in track.layers
        if layer.quality in _QUALITY and layer.width and layer.height
    }


def _add_track(kind: str, cid: str, media: PublishMedia) -> pb.AddTrackRequest:
    request = pb.AddTrackRequest(
        cid=cid,
        name=f"{kind}",
        type=_TYPE[kind],
        source=_SOURCE[kind],
        disable_dtx=True,
        disable_red=True,  # aiortc has no RED (RFC 2198) for Opus
    )
    if kind == "video":
        request.width, request.height = media.width, media.height
        qualities = reversed(_QUALITY[: len(media.layers)])  # the layers come highest first
        for quality, layer in zip(qualities, media.layers, strict=False):
            request.layers.append(
                models.VideoLayer(
                    quality=quality,
                    width=layer.width,
                    height=layer.height,
                    bitrate=layer.bitrate_bps,
                    rid=layer.rid,
                )
            )
    return request


def _subscription(
    publisher_sid: str, tracks: dict[str, str], *, subscribe: bool
) -> pb.SignalRequest:
    return pb.SignalRequest(
        subscription=pb.UpdateSubscription(
            track_sids=list(tracks),
            subscribe=subscribe,
            participant_tracks=[
                models.ParticipantTracks(participant_sid=publisher_sid, track_sids=list(tracks))
            ],
        )
    )
