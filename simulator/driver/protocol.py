"""The media-server driver protocol: everything the player and the peers ask of a server.

Three levels, as a run meets them:

* a ``Driver`` is known before anything connects: its name and its server's ``capabilities``,
  against which a scenario is checked before it runs (``simulator.player.registry.refusals``);
* ``Driver.connect`` gives the run's ``MediaServer``: the server-side actions OpenVidu's REST API
  offers (create and destroy rooms, kick, list who publishes, start and stop recordings, a
  health probe), over one admin connection, on the client namespace's loop;
* ``MediaServer.participant`` gives one participant's ``ParticipantLink``: its signalling (join,
  publish with options, mute, unpublish, subscribe and answer, choose a layer, unsubscribe,
  leave). The participant (``simulator.participant``) keeps the media (its aiortc peer
  connections, tracks and counters, made of ``simulator.peers``), the same whatever the server.

The SDP exchange is shaped so both kinds of server fit:

* publishing is client-offered everywhere: ``publish(offer)`` returns the server's answer;
* subscribing is server-offered: ``subscribe(feed)`` returns a ``SubscriberOffer`` and
  ``answer(offer, sdp)`` completes it. The offer names the subscriber ``peer`` it is for. Janus's
  VideoRoom opens one peer connection (one handle) per feed, so its ``peer`` is the feed; a
  server with one subscriber peer connection per participant (LiveKit: a publisher PC and a
  subscriber PC, the second offered and renegotiated by the server) names that one peer every
  time, and its offers renegotiate it; ``SubscriberOffer.carries`` says which m-line carries
  which feed, so frames are credited per m-line.
* what such a server sends unasked reaches the participant through callbacks given at
  ``join``: offers that renegotiate a subscriber peer (``OnOffer``: LiveKit offers its
  subscriber PC at the join, and again whenever a track comes or goes) and the candidates it
  trickles (``OnCandidate``: LiveKit's SDPs carry none). Janus sends neither.
* ``ParticipantLink.plan`` says how the server wants the peers laid out beyond that: whether a
  publisher peer outlives its publication (LiveKit: one per participant, renegotiated with its
  transceivers inactive on unpublish) and the rids it names simulcast layers by.

Names are OpenVidu's: a room is a session (``sessionId``), a participant is a connection
(``connectionId``), a feed is the connection id of a publisher. A server may name a participant
by an id of its own in its events (LiveKit: the participant SID, ``ParticipantLink.server_id``);
the simulator's connection id is then the participant's identity there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from simulator.driver.capabilities import Capability, ServerReport
from simulator.peers.latency import FrameMatch

MediaKind = Literal["audio", "video"]
PUBLISHER_PEER = "publisher"
"""The name a ``RemoteCandidate`` gives the participant's publisher peer connection (a
subscriber peer is named by its ``SubscriberOffer.peer``, a feed or a server's own name)."""


@dataclass(frozen=True)
class RoomOptions:
    """What a room is created with."""

    publishers: int = 16
    bitrate_bps: int = 1_000_000
    audiocodec: str = "opus"
    videocodec: str = "vp8"
    fir_freq_s: int = 10
    """How often the server asks publishers for a keyframe."""
    audiolevel_event: bool = False
    """The server tells the room who starts and stops talking (RFC 6464 audio levels)."""
    audio_active_packets: int | None = None
    audio_level_average: int | None = None


@dataclass(frozen=True)
class SimulcastLayer:
    """One layer of a simulcast video as the server is told of it (LiveKit's ``VideoLayer``)."""

    rid: str
    width: int
    height: int
    bitrate_bps: int


@dataclass(frozen=True)
class PublishMedia:
    """What a publication carries, as the server is told (the tracks are in the offer)."""

    audio: bool = True
    video: bool = True
    width: int = 0
    height: int = 0
    layers: tuple[SimulcastLayer, ...] = ()
    """A simulcast video's layers, highest first (empty: one layer)."""


@dataclass(frozen=True)
class PublishAnswer:
    """The server's answer to a publisher's offer, and its account of the published streams
    (Janus: the ``configured`` reply's ``streams``, ``simulcast: true`` when it took layers)."""

    sdp: str
    streams: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Layer:
    """A simulcast layer a subscriber asks for: ``substream`` (by rid order, 0 the lowest) and
    ``temporal`` (VP8: 0 the base layer only); ``None`` leaves that one to the server."""

    substream: int | None = None
    temporal: int | None = None


@dataclass(frozen=True)
class Talking:
    """The server's word that a participant of the room started or stopped talking."""

    feed: str
    talking: bool
    level_dbov: float | None = None


OnTalking = Callable[[Talking], None]
OnLayer = Callable[[int | None, int | None], None]
"""Called with (substream, temporal) when the server says which layer it now relays."""


@dataclass(frozen=True)
class SubscriberOffer:
    """The server's offer for a subscription: ``peer`` is the subscriber peer connection it is
    for (a new one, or one to renegotiate), ``feed`` the publisher it brings (empty for an offer
    the server sent unasked). ``carries``: the feed each m-line carries now, by mid (empty: every
    m-line carries ``feed``, as on Janus)."""

    feed: str
    peer: str
    sdp: str
    carries: Mapping[str, str] = field(default_factory=dict)
    layer_sizes: Mapping[tuple[int, int], int] = field(default_factory=dict)
    """For a server that never says which simulcast layer it forwards (LiveKit): each layer's
    picture size -> its substream (0 the lowest), so the subscriber tells the layer by the key
    frames that arrive. Empty: the server says it (``OnLayer``, Janus)."""

    def feed_of(self, mid: str | None) -> str | None:
        """The feed the m-line ``mid`` carries, if any."""
        if not self.carries:
            return self.feed or None
        return self.carries.get(mid or "")


@dataclass(frozen=True)
class RemoteCandidate:
    """A candidate the server trickled for one of the participant's peers: ``peer`` is a
    subscriber offer's ``peer`` or ``PUBLISHER_PEER``; ``candidate`` the ``candidate:...``
    attribute without ``a=``, ``None`` once the server gathered them all."""

    peer: str
    candidate: str | None
    sdp_mid: str | None = None
    sdp_mline_index: int | None = None


OnOffer = Callable[[SubscriberOffer], Awaitable[str]]
"""Answers an offer the server sent unasked (a renegotiation); returns our answer's SDP."""
OnCandidate = Callable[[RemoteCandidate], Awaitable[None]]


@dataclass(frozen=True)
class PeerPlan:
    """How a server wants a participant's peer connections laid out, beyond the offers."""

    subscriber_shared: bool = False
    """One subscriber peer for every subscription, offered by the server at the join and open
    until the leave (LiveKit's primary connection); otherwise one per subscription, closed with
    it (Janus)."""
    publisher_kept: bool = False
    """The publisher peer outlives a publication: an unpublish renegotiates it with its
    transceivers inactive and the next publication reuses it (LiveKit); otherwise each
    publication has a peer of its own, closed with it (Janus)."""
    simulcast_rids: tuple[str, ...] = ("h", "m", "l")
    """The rids the server names simulcast layers by, highest first (Janus's default
    ``rid_order`` "hml"; LiveKit's ``f``, ``h``, ``q``)."""
    subscriber_dtls_passive: bool = False
    """Answer the server's subscriber offers with ``a=setup:passive``, so the server starts
    DTLS. aiortc, as the DTLS client, sends its ClientHello the moment its side of ICE is up;
    Janus drops what comes before its own side is (about one subscription in eight here), and
    OpenSSL, which aiortc cannot tune, sends it again only after 1 s: a second of ICE time
    (``connectionState`` waits for DTLS) that Janus did not cause and a browser does not pay
    (libwebrtc retransmits its first flight within about 50 ms)."""
    frame_match: FrameMatch = FrameMatch.PICTURE_ID
    """How a subscriber finds the publisher's frame it received (one-way latency,
    ``peers.latency``): Janus relays each VP8 frame with the picture id it was sent with;
    LiveKit renumbers picture ids across what it did not forward (after a 3 s mute every frame
    matched one sent 3 s earlier) but keeps each subscription's RTP timestamp offset, so there a
    frame is named by its timestamp (``FrameMatch.RTP_TIMESTAMP``)."""


@dataclass(frozen=True)
class ServerTimings:
    """How long the server takes to notice a participant that vanished (a ``drop``)."""

    drop_noticed_after_s: float
    """The soonest it can end a dropped participant's media (Janus: ICE keepalive checks)."""
    drop_noticed_within_s: float
    """By when it has surely let the participant go (the runner waits that long)."""


class ServerUnavailable(RuntimeError):
    """``Driver.connect`` cannot reach or drive its server (not running, no credentials)."""


class ParticipantLink(Protocol):
    """One participant's signalling with the server (the client namespace's loop)."""

    @property
    def closed(self) -> bool:
        """The server's side of the link is gone (ended by us or by the server)."""
        ...

    @property
    def plan(self) -> PeerPlan: ...

    @property
    def server_id(self) -> str | None:
        """The id the server's own events name this participant by, once joined (Janus: the
        connection id; LiveKit: the participant SID)."""
        ...

    async def join(
        self,
        room: str,
        on_talking: OnTalking | None = None,
        *,
        on_offer: OnOffer | None = None,
        on_candidate: OnCandidate | None = None,
    ) -> None:
        """Enter the room; ``on_talking`` hears the room's talking notifications, ``on_offer``
        answers the server's own renegotiations, ``on_candidate`` takes the candidates it
        trickles. Returns once the server has what it needs of the join (LiveKit: the first
        subscriber offer answered)."""
        ...

    async def publish(self, offer_sdp: str, media: PublishMedia) -> PublishAnswer:
        """Send our offer (every candidate inside: aiortc does not trickle); the answer."""
        ...

    async def wait_published(self, timeout_s: float) -> None:
        """Until the server says our published media is up."""
        ...

    async def mute(self, kind: MediaKind, muted: bool, mids: Sequence[str]) -> None:
        """Stop (or resume) relaying the published track of ``kind`` (its ``mids``)."""
        ...

    async def unpublish(self, offer_sdp: str | None = None) -> str | None:
        """End the publication. With ``plan.publisher_kept``: ``offer_sdp`` is the publisher
        peer's new offer (its transceivers inactive) and the server's answer is returned."""
        ...

    async def subscribe(
        self, feed: str, layer: Layer | None = None, on_layer: OnLayer | None = None
    ) -> SubscriberOffer:
        """The server's offer for ``feed`` (at ``layer``); ``on_layer`` hears which layer the
        server relays from then on."""
        ...

    async def answer(self, offer: SubscriberOffer, answer_sdp: str, timeout_s: float) -> None:
        """Our answer to a subscriber offer; returns once the server says media is up."""
        ...

    async def choose_layer(self, feed: str, layer: Layer) -> None:
        """Receive another layer of ``feed`` (a server with ``LAYER_CHOICE``)."""
        ...

    async def unsubscribe(self, feed: str) -> None: ...

    async def leave(self) -> None:
        """A clean goodbye to the room: the server ends the publication with it."""
        ...

    async def close(self, *, end_session: bool) -> None:
        """Let go of the server. ``end_session``: tell it (a clean end, or after it removed us);
        otherwise just stop talking, as a vanished network does, and let it time us out."""
        ...


class MediaServer(Protocol):
    """One run's connection to the server: its server-side actions and its participants."""

    @property
    def url(self) -> str: ...

    async def create_room(self, room: str, options: RoomOptions) -> bool:
        """``False`` when the room existed already (a rerun reusing the name)."""
        ...

    async def destroy_room(self, room: str) -> None: ...

    async def kick(self, room: str, connection_id: str) -> None: ...

    async def publishers(self, room: str) -> list[str]:
        """The connection ids whose publication the server offers to subscribers now."""
        ...

    async def participants(self, room: str) -> dict[str, bool]:
        """Who the server still has in ``room``: connection id -> whether it publishes (how a
        dropped participant is seen to be noticed, ``simulator.player.drops``)."""
        ...

    async def start_recording(self, room: str, folder: Path) -> None:
        """Record every stream of ``room``, present and future, into ``folder`` (absolute)."""
        ...

    async def stop_recording(self, room: str) -> bool:
        """``False`` when the room is gone already (its recorders with it)."""
        ...

    async def probe(self, timeout_s: float) -> None:
        """Raises unless the server answers within ``timeout_s``."""
        ...

    def participant(self, connection_id: str, display: str) -> ParticipantLink: ...

    async def close(self) -> None: ...


class Driver(Protocol):
    """A kind of media server: known before a run connects, so scenarios are checked first."""

    @property
    def name(self) -> str: ...

    @property
    def capabilities(self) -> frozenset[Capability]: ...

    @property
    def reports(self) -> frozenset[ServerReport]:
        """What the server's own events tell the collector (the rest only the client can)."""
        ...

    @property
    def timings(self) -> ServerTimings: ...

    async def connect(self) -> MediaServer:
        """The run's server connection; called on the client namespace's loop. Raises
        ``ServerUnavailable`` when the server cannot be driven."""
        ...
