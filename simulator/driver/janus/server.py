"""The driver protocol (``simulator.driver.protocol``) on Janus's VideoRoom.

One admin Janus session per run holds the handle that creates and destroys rooms, kicks,
lists participants and switches recorders. Each participant is one Janus session: its first
handle joins as publisher with ``id = connectionId`` (the control handle, which also publishes)
and each subscription is one more handle on one feed, so a subscriber offer's ``peer`` is its
feed (``videoroom`` has the conventions the collector relies on).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp

from simulator.driver.capabilities import Capability, ServerReport
from simulator.driver.janus import recording, videoroom
from simulator.driver.janus.http import (
    JanusError,
    JanusHandle,
    JanusSession,
    JsonObject,
    server_info,
)
from simulator.driver.protocol import (
    Layer,
    MediaKind,
    OnCandidate,
    OnLayer,
    OnOffer,
    OnTalking,
    PeerPlan,
    PublishAnswer,
    PublishMedia,
    RoomOptions,
    ServerTimings,
    ServerUnavailable,
    SubscriberOffer,
    Talking,
)
from simulator.peers.layer_tracking import video_mid

JANUS_CAPABILITIES = frozenset(
    {
        Capability.PUBLISH,
        Capability.SUBSCRIBE,
        Capability.MUTE,
        Capability.KICK,
        Capability.DESTROY_ROOM,
        Capability.RECORDING,
        Capability.SIMULCAST,
        Capability.LAYER_CHOICE,
    }
)
JANUS_REPORTS = frozenset(ServerReport)
"""The event handler reports everything: ICE and DTLS, media statistics, every handle."""
JANUS_PLAN = PeerPlan(subscriber_dtls_passive=True)
ICE_EARLIEST_S = 30.0
"""The soonest Janus can hang up a dropped peer's PeerConnection: libnice fails it 50 s after the
last keepalive answer, keepalives go every 25 s, and Janus waits 5 s more."""


class JanusDriver:
    """Janus at ``url`` (its HTTP API, e.g. ``http://198.18.0.1:8088/janus``)."""

    name = "janus"
    capabilities = JANUS_CAPABILITIES
    reports = JANUS_REPORTS

    def __init__(
        self, url: str, *, admin_label: str = "rtcsim:admin", drop_detection_s: float = 64.0
    ) -> None:
        self.url = url
        self.admin_label = admin_label
        self.timings = ServerTimings(
            drop_noticed_after_s=ICE_EARLIEST_S, drop_noticed_within_s=drop_detection_s
        )

    async def connect(self) -> JanusServer:
        # Every participant's Janus session keeps a long-poll open on this one client, so
        # aiohttp's default pool of 100 connections would hold 100 participants and starve the
        # 101st's join and everyone's keepalives and leaves (measured: a 100-user ramp held 99,
        # a capacity search "broke" at 104 users on the generator's own pool). No cap: the
        # process's descriptors are the bound.
        http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        try:
            admin = await JanusSession.create(http, self.url)
            handle = await admin.attach(videoroom.PLUGIN, self.admin_label)
        except (aiohttp.ClientConnectionError, OSError) as exc:
            await http.close()
            raise ServerUnavailable(f"Janus not answering at {self.url} ({exc})") from exc
        except BaseException:
            await http.close()
            raise
        return JanusServer(http, self.url, admin, handle)


class JanusServer:
    """A run's connection to Janus: the admin session and handle, and the participants' HTTP."""

    def __init__(
        self, http: aiohttp.ClientSession, url: str, admin: JanusSession, handle: JanusHandle
    ) -> None:
        self.http = http
        self._url = url
        self._admin = admin
        self._handle = handle

    @property
    def url(self) -> str:
        return self._url

    async def create_room(self, room: str, options: RoomOptions) -> bool:
        return await videoroom.create_room(self._handle, room, options)

    async def destroy_room(self, room: str) -> None:
        await videoroom.destroy_room(self._handle, room)

    async def kick(self, room: str, connection_id: str) -> None:
        await videoroom.kick(self._handle, room, connection_id)

    async def publishers(self, room: str) -> list[str]:
        # Janus lists a publisher only after its webrtcup: earlier, there is no feed to take.
        return [who for who, publishing in (await self.participants(room)).items() if publishing]

    async def participants(self, room: str) -> dict[str, bool]:
        listed = await videoroom.list_participants(self._handle, room)
        return {str(p.get("id")): bool(p.get("publisher")) for p in listed}

    async def start_recording(self, room: str, folder: Path) -> None:
        await recording.start(self._handle, room, folder)

    async def stop_recording(self, room: str) -> bool:
        return await recording.stop(self._handle, room)

    async def probe(self, timeout_s: float) -> None:
        async with asyncio.timeout(timeout_s):
            info = await server_info(self.http, self._url)
        if info.get("janus") != "server_info":
            raise RuntimeError(f"unexpected /info answer: {str(info)[:80]}")

    def participant(self, connection_id: str, display: str) -> JanusLink:
        return JanusLink(self.http, self._url, connection_id, display)

    async def close(self) -> None:
        try:
            await self._admin.destroy()
        finally:
            await self.http.close()


class JanusLink:
    """One participant's Janus session: the control handle and a handle per subscribed feed."""

    def __init__(
        self, http: aiohttp.ClientSession, url: str, connection_id: str, display: str
    ) -> None:
        self._http = http
        self._url = url
        self.connection_id = connection_id
        self.display = display
        self.session: JanusSession | None = None
        self.control: JanusHandle | None = None
        self.room: str | None = None
        self.feeds: dict[str, JanusHandle] = {}
        self.video_mids: dict[str, str | None] = {}
        """Per feed: the video m-line of Janus's offer, where a layer change applies."""

    plan = JANUS_PLAN

    @property
    def closed(self) -> bool:
        return self.session is None or self.session.closed

    @property
    def server_id(self) -> str | None:
        return self.connection_id

    async def join(
        self,
        room: str,
        on_talking: OnTalking | None = None,
        *,
        on_offer: OnOffer | None = None,
        on_candidate: OnCandidate | None = None,
    ) -> None:
        """``on_offer`` and ``on_candidate`` are never called: Janus renegotiates nothing
        unasked and its SDPs carry their candidates."""
        self.session = await JanusSession.create(self._http, self._url)
        self.control = await videoroom.join_as_participant(
            self.session, room, self.connection_id, self.display
        )
        if on_talking is not None:
            self.control.listeners.append(lambda event: _talking(event, on_talking))
        self.room = room

    async def publish(self, offer_sdp: str, media: PublishMedia) -> PublishAnswer:
        reply = await videoroom.publish(
            self._control(), offer_sdp, audio=media.audio, video=media.video
        )
        if reply.jsep is None:
            raise RuntimeError(f"{self.connection_id}: Janus sent no SDP answer to our offer")
        return PublishAnswer(str(reply.jsep["sdp"]), list(reply.data.get("streams", [])))

    async def wait_published(self, timeout_s: float) -> None:
        await self._control().wait_for("webrtcup", timeout_s=timeout_s)

    async def mute(self, kind: MediaKind, muted: bool, mids: Sequence[str]) -> None:
        await videoroom.configure_send(self._control(), list(mids), not muted)

    async def unpublish(self, offer_sdp: str | None = None) -> str | None:
        await videoroom.unpublish(self._control())
        return None

    async def subscribe(
        self, feed: str, layer: Layer | None = None, on_layer: OnLayer | None = None
    ) -> SubscriberOffer:
        if self.session is None or self.room is None:
            raise RuntimeError(f"{self.connection_id} has not joined a room")
        layer = layer or Layer()
        handle, offer = await videoroom.subscribe(
            self.session,
            self.room,
            self.connection_id,
            feed,
            substream=layer.substream,
            temporal=layer.temporal,
        )
        if on_layer is not None:
            handle.listeners.append(lambda event: _relayed(event, on_layer))
        self.feeds[feed] = handle
        self.video_mids[feed] = video_mid(offer)
        return SubscriberOffer(feed=feed, peer=feed, sdp=offer)

    async def answer(self, offer: SubscriberOffer, answer_sdp: str, timeout_s: float) -> None:
        handle = self._feed(offer.feed)
        await videoroom.start(handle, answer_sdp)
        await handle.wait_for("webrtcup", timeout_s=timeout_s)

    async def choose_layer(self, feed: str, layer: Layer) -> None:
        handle, mid = self._feed(feed), self.video_mids.get(feed)
        if mid is None:
            raise RuntimeError(f"{self.connection_id} receives no video from {feed}")
        await videoroom.set_layer(handle, mid, substream=layer.substream, temporal=layer.temporal)

    async def unsubscribe(self, feed: str) -> None:
        handle = self.feeds.pop(feed, None)
        self.video_mids.pop(feed, None)
        if handle is None:
            return
        try:
            await videoroom.leave(handle)
        finally:  # Janus may have hung up on a vanished feed: the detach is best effort too
            with contextlib.suppress(JanusError, aiohttp.ClientError, TimeoutError):
                await handle.detach()

    async def leave(self) -> None:
        if self.control is not None:
            await videoroom.leave(self.control)
        self.control = None

    async def close(self, *, end_session: bool) -> None:
        session = self.session
        if session is None:
            return
        if end_session and not session.closed:
            await session.destroy()
        await session.abandon()

    def _control(self) -> JanusHandle:
        if self.control is None:
            raise RuntimeError(f"{self.connection_id} has not joined a room")
        return self.control

    def _feed(self, feed: str) -> JanusHandle:
        try:
            return self.feeds[feed]
        except KeyError:
            raise RuntimeError(f"{self.connection_id} does not subscribe to {feed}") from None


def _plugin_data(event: JsonObject) -> dict[str, Any]:
    data = event.get("plugindata", {}).get("data", {})
    return data if isinstance(data, dict) else {}


def _talking(event: JsonObject, on_talking: OnTalking) -> None:
    """Janus tells every participant of an ``audiolevel_event`` room who talks (VideoRoom
    ``talking`` / ``stopped-talking``, with the average level in -dBov)."""
    data = _plugin_data(event)
    kind = data.get("videoroom")
    if kind in ("talking", "stopped-talking"):
        level = data.get("audio-level-dBov-avg")
        on_talking(
            Talking(
                feed=str(data.get("id")),
                talking=kind == "talking",
                level_dbov=float(level) if isinstance(level, int | float) else None,
            )
        )


def _relayed(event: JsonObject, on_layer: OnLayer) -> None:
    """Janus tells a subscriber which simulcast layer it now relays: an ``event`` with
    ``substream`` and/or ``temporal``."""
    data = _plugin_data(event)
    if event.get("janus") != "event" or data.get("videoroom") != "event":
        return
    substream, temporal = data.get("substream"), data.get("temporal")
    if isinstance(substream, int) or isinstance(temporal, int):
        on_layer(
            substream if isinstance(substream, int) else None,
            temporal if isinstance(temporal, int) else None,
        )
