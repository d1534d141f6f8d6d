"""The driver protocol (``simulator.driver.protocol``) on LiveKit.

The run's server-side actions are RoomService calls (``room_service``), signed per call with the
stack's key pair: create and delete rooms, remove a participant, list who is in a room. Each
participant is a ``LiveKitLink`` (its WebSocket signalling) whose identity is rtcsim's connection
id; the server's events name it by its participant SID (``server_id``).

What LiveKit v1.13.5 cannot do here, and so never offers (``livekit-findings.md`` §6):
recordings need Egress, a separate service over Redis; its events report no media statistics,
no ICE events and no subscriptions (only the client can: ``rtcsim_side: client``).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
from livekit.protocol import models

from simulator.driver.capabilities import Capability, ServerReport
from simulator.driver.livekit.keys import LiveKitCredentials, load_credentials
from simulator.driver.livekit.link import LiveKitLink
from simulator.driver.livekit.room_service import LiveKitRooms, RoomServiceError
from simulator.driver.protocol import RoomOptions, ServerTimings, ServerUnavailable

LIVEKIT_CAPABILITIES = frozenset(
    {
        Capability.PUBLISH,
        Capability.SUBSCRIBE,
        Capability.MUTE,
        Capability.KICK,
        Capability.DESTROY_ROOM,
        Capability.SIMULCAST,
        Capability.LAYER_CHOICE,
    }
)
"""Simulcast: the three layers go out by rid (``f``, ``h``, ``q``) with an ``AddTrackRequest``
listing them (``VideoLayer`` LOW/MEDIUM/HIGH), and the ``TrackPublishedResponse``'s
``TrackInfo.layers`` is what the ledger records LiveKit took. Layer choice: ``UpdateTrackSettings``
with the quality (Janus's substream 0/1/2 = LOW/MEDIUM/HIGH); LiveKit never says which layer it
forwards, so the subscriber tells it by the key frames' sizes (``SubscriberOffer.layer_sizes``).
The temporal layer is LiveKit's to choose (it forwards the highest it can)."""
LIVEKIT_REPORTS: frozenset[ServerReport] = frozenset()
"""Webhooks are lifecycle only: rooms, participants, tracks (``livekit-findings.md`` §1)."""
LIVEKIT_TIMINGS = ServerTimings(drop_noticed_after_s=15.0, drop_noticed_within_s=35.0)
"""A vanished participant: ICE disconnected after 10 s, failed 5 s later (``rtc/transport.go``),
then the participant's 5 s disconnect timer (``participant.go``); measured 20 to 22 s."""
ROOM_EMPTY_TIMEOUT_S = 3600
"""A room the run created waits this long for its first participant (LiveKit's default would
close it before a late first join); the run deletes its rooms at its end."""


class LiveKitDriver:
    """LiveKit at ``url`` (its WebSocket base, e.g. ``ws://198.18.0.1:7880``), trusting the key
    pair in ``state_dir`` (``keys``)."""

    name = "livekit"
    capabilities = LIVEKIT_CAPABILITIES
    reports = LIVEKIT_REPORTS
    timings = LIVEKIT_TIMINGS

    def __init__(
        self, url: str, http_url: str, state_dir: Path, *, departure_timeout_s: int = 1
    ) -> None:
        self.url = url
        self.http_url = http_url
        self.state_dir = state_dir
        self.departure_timeout_s = departure_timeout_s

    async def connect(self) -> LiveKitServer:
        keys = load_credentials(self.state_dir)
        if keys is None:
            raise ServerUnavailable(
                f"LiveKit has no key pair under {self.state_dir / 'livekit'}: start it first "
                "(rtcsim services up --livekit, or make services SERVER=livekit)"
            )
        # No pool limit: each participant's signalling WebSocket holds one connection for its
        # whole life, and aiohttp's default pool of 100 made the 101st join wait forever.
        http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        return LiveKitServer(http, self, keys)


class LiveKitServer:
    """A run's connection to LiveKit: RoomService over one HTTP session, and the participants'
    WebSockets on it."""

    def __init__(
        self, http: aiohttp.ClientSession, driver: LiveKitDriver, keys: LiveKitCredentials
    ) -> None:
        self.http = http
        self._driver = driver
        self._keys = keys
        self._rooms = LiveKitRooms(http, driver.http_url, keys)

    @property
    def url(self) -> str:
        return self._driver.url

    async def create_room(self, room: str, options: RoomOptions) -> bool:
        """LiveKit takes no codec, bitrate or audio-level options per room (its publishers
        choose; it always tells who speaks)."""
        if await self._rooms.list_rooms([room]):
            return False
        await self._rooms.create_room(
            room,
            empty_timeout_s=ROOM_EMPTY_TIMEOUT_S,
            departure_timeout_s=self._driver.departure_timeout_s,
        )
        return True

    async def destroy_room(self, room: str) -> None:
        """``DeleteRoom``; a room LiveKit closed already (its last participant left) is gone."""
        try:
            await self._rooms.delete_room(room)
        except RoomServiceError as exc:
            if exc.code != "not_found":
                raise

    async def kick(self, room: str, connection_id: str) -> None:
        await self._rooms.remove_participant(room, connection_id)

    async def publishers(self, room: str) -> list[str]:
        return [who for who, publishing in (await self.participants(room)).items() if publishing]

    async def participants(self, room: str) -> dict[str, bool]:
        """By identity (rtcsim's connection id). A room LiveKit closed has nobody in it."""
        try:
            listed = await self._rooms.list_participants(room)
        except RoomServiceError as exc:
            if exc.code == "not_found":
                return {}
            raise
        return {
            p.identity: bool(p.tracks)
            for p in listed
            if p.state != models.ParticipantInfo.DISCONNECTED
        }

    async def start_recording(self, room: str, folder: Path) -> None:
        raise NotImplementedError("LiveKit records only through Egress, which rtcsim does not run")

    async def stop_recording(self, room: str) -> bool:
        raise NotImplementedError("LiveKit records only through Egress, which rtcsim does not run")

    async def probe(self, timeout_s: float) -> None:
        """``/`` answers ``OK`` while LiveKit runs (406 while its node stats are stale)."""
        async with asyncio.timeout(timeout_s):
            async with self.http.get(f"{self._driver.http_url}/") as reply:
                body = (await reply.text()).strip()
        if reply.status != 200 or body != "OK":
            raise RuntimeError(f"LiveKit answered {reply.status} {body[:80]!r}")

    def participant(self, connection_id: str, display: str) -> LiveKitLink:
        return LiveKitLink(self.http, self._driver.url, self._keys, connection_id, display)

    async def close(self) -> None:
        await self.http.close()
