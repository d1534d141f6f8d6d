"""LiveKit's own webhooks, through the real collector, into Elasticsearch as OpenVidu documents.

The real stack (Elasticsearch, the collector) and a real LiveKit whose webhooks go to the
collector inside the SFU namespace (``livekit_webhook_target``), verified with the stack's key
pair. Three rooms, played at once: in one a participant is removed through RoomService
(``forceDisconnectByServer``) and the other leaves cleanly (``disconnect``); one is deleted
(``sessionClosedByServer``); in one the only participant vanishes and LiveKit notices on its own
after about 21 s (``networkDisconnect``). The viewer's subscription has no webhook: the client
reports it (``POST /subscriptions``), and its documents say so (``rtcsim_side: client``).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from collector.store.client import open_client
from rtcsim.services import livekit
from simulator.collector_client import CollectorClient
from simulator.driver.livekit.keys import LiveKitCredentials
from simulator.driver.livekit.link import LiveKitLink
from simulator.driver.livekit.room_service import LiveKitRooms
from simulator.netns_loop import NamespaceLoop
from simulator.participant import Participant
from simulator.peers.publishing import PublishOptions
from simulator.settings import Settings
from simulator.verify.store_reader import Document, wait_for_documents

pytestmark = pytest.mark.integration

CHEAP = PublishOptions(media="cheap")
LIVEKIT_NOTICES_S = 21.0  # a vanished participant's participant_left (livekit-findings §4)


@pytest.fixture(scope="module")
def lk(running_stack: Settings) -> Iterator[Settings]:
    """LiveKit, its webhooks to the stack's collector."""
    status = livekit.start(running_stack)
    yield running_stack
    if not status.reused:
        livekit.stop(running_stack)


@pytest.fixture(scope="module")
def client_loop(lk: Settings) -> Iterator[NamespaceLoop]:
    with NamespaceLoop(lk.client_netns, name="livekit-collector-clients") as loop:
        yield loop


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Clients:
    """LiveKit participants of one room on the client namespace's loop, closed at the end."""

    def __init__(self, lk: Settings, keys: LiveKitCredentials) -> None:
        self.lk = lk
        self.keys = keys
        self.http: aiohttp.ClientSession | None = None
        self.made: list[Participant] = []

    async def __aenter__(self) -> Clients:
        self.http = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        for participant in self.made:
            await participant.close_quietly()
        if self.http is not None:
            await self.http.close()

    def participant(self, name: str) -> Participant:
        """The protocol's participant on a LiveKit link whose identity is ``name``."""
        assert self.http is not None
        lk_link = LiveKitLink(self.http, self.lk.livekit_url, self.keys, name, name.title())
        made = Participant(lk_link, name, name.title())
        self.made.append(made)
        return made

    def rooms(self) -> LiveKitRooms:
        assert self.http is not None
        return LiveKitRooms(self.http, self.lk.livekit_http_url, self.keys)


def link(participant: Participant) -> LiveKitLink:
    assert isinstance(participant.link, LiveKitLink)
    return participant.link


async def publisher_and_viewer(clients: Clients, room: str) -> dict[str, str]:
    """alice publishes, bob watches; their participant SIDs."""
    alice, bob = clients.participant("alice"), clients.participant("bob")
    await alice.join(room)
    await bob.join(room)
    await alice.publish("alice_CAMERA", CHEAP)
    await bob.subscribe("alice", "alice_CAMERA", media="cheap")
    return {"alice": alice.server_id, "bob": bob.server_id}


async def removal_then_clean_leave(clients: Clients, room: str) -> None:
    """bob is removed through RoomService, then alice leaves."""
    alice, bob = clients.made
    await asyncio.sleep(2.0)
    await clients.rooms().remove_participant(room, "bob")
    await asyncio.wait_for(link(bob).removed.wait(), 10)
    await asyncio.sleep(1.0)
    await alice.leave()


async def room_deleted(lk: Settings, keys: LiveKitCredentials, room: str) -> None:
    async with Clients(lk, keys) as clients:
        carol, dave = clients.participant("carol"), clients.participant("dave")
        await carol.join(room)
        await dave.join(room)
        await carol.publish("carol_CAMERA", CHEAP)
        await asyncio.sleep(2.0)
        await clients.rooms().delete_room(room)
        gone = (link(carol).removed.wait(), link(dave).removed.wait())
        await asyncio.wait_for(asyncio.gather(*gone), 10)


async def vanished(lk: Settings, keys: LiveKitCredentials, room: str) -> int:
    """erin publishes, then nothing leaves her any more; returns when she vanished (ms)."""
    async with Clients(lk, keys) as clients:
        erin = clients.participant("erin")
        await erin.join(room)
        await erin.publish("erin_CAMERA", CHEAP)
        await asyncio.sleep(2.0)
        gone_ms = now_ms()
        await erin.vanish()
        # Keep the silent WebSocket until LiveKit let her go: closing it is no leave either,
        # but a clean close of everything here must not race the timeout.
        await asyncio.sleep(LIVEKIT_NOTICES_S + 5)
        return gone_ms


def of(docs: list[Document], **match: object) -> list[Document]:
    return [d for d in docs if all(d.get(k) == v for k, v in match.items())]


def one(docs: list[Document], **match: object) -> Document:
    found = of(docs, **match)
    assert len(found) == 1, f"{len(found)} documents match {match}"
    return found[0]


def test_livekit_sessions_are_recorded_with_openvidus_reasons(
    lk: Settings, client_loop: NamespaceLoop
) -> None:
    keys = livekit.credentials(lk)
    tag = uuid.uuid4().hex[:6]
    rooms = {kind: f"lk-{kind}-{tag}" for kind in ("leave", "deleted", "vanished")}

    async def main() -> tuple[list[Document], dict[str, str], int, dict[str, Any]]:
        vanish = asyncio.ensure_future(client_loop.run(vanished(lk, keys, rooms["vanished"])))
        watched = Clients(lk, keys)
        async with aiohttp.ClientSession() as http:
            collector = CollectorClient(http, lk.collector_api_url, lk.collector_token)
            await client_loop.run(watched.__aenter__())
            try:
                sids = await client_loop.run(publisher_and_viewer(watched, rooms["leave"]))
                # No webhook says bob watches alice: the client does (from the root namespace,
                # where the collector's API is).
                await collector.post(
                    "/subscriptions",
                    {
                        "sessionId": rooms["leave"],
                        "connectionId": sids["bob"],
                        "receivingFrom": sids["alice"],
                        "status": "started",
                        "timestamp": now_ms(),
                    },
                )
                await client_loop.run(removal_then_clean_leave(watched, rooms["leave"]))
            finally:
                await client_loop.run(watched.__aexit__(None, None, None))
            await client_loop.run(room_deleted(lk, keys, rooms["deleted"]))
            gone_ms = await vanish
            async with open_client(lk.es_client_options()) as es:
                docs = await wait_for_documents(
                    es,
                    lk.es_index,
                    list(rooms.values()),
                    lambda d: len(of(d, elastic_type="sessionSummary")) == 3,
                    timeout_s=30,
                )
            stats = await collector.health()
        return docs, sids, gone_ms, stats

    docs, sids, gone_ms, stats = asyncio.run(main())
    assert len(of(docs, elastic_type="sessionSummary")) == 3, (
        f"collector /stats: api {stats['api']}, events {stats['events']}"
    )
    assert stats["api"]["rejected"].get("/livekit", 0) == 0

    # -- a removal and a clean leave
    leave = of(docs, sessionId=rooms["leave"])
    assert one(leave, event="sessionCreated")
    alice = one(leave, event="participantJoined", connectionId=sids["alice"])
    assert alice["user"] == "alice"
    assert sids["alice"].startswith("PA_")
    assert one(leave, event="participantLeft", connectionId=sids["bob"])["reason"] == (
        "forceDisconnectByServer"
    )
    assert one(leave, event="participantLeft", connectionId=sids["alice"])["reason"] == (
        "disconnect"
    )
    published = one(leave, event="webrtcConnectionCreated", connection="OUTBOUND")
    assert published["connectionId"] == sids["alice"]
    assert published["audioEnabled"] is True
    assert published["videoEnabled"] is True
    outbound = one(leave, event="webrtcConnectionDestroyed", connection="OUTBOUND")
    assert outbound["reason"] == "disconnect"
    watched = one(leave, event="webrtcConnectionCreated", connection="INBOUND")
    assert watched["rtcsim_side"] == "client"
    assert watched["receivingFrom"] == sids["alice"]
    assert watched["streamId"] == published["streamId"]
    inbound = one(leave, event="webrtcConnectionDestroyed", connection="INBOUND")
    assert inbound["reason"] == "forceDisconnectByServer"
    assert one(leave, event="sessionDestroyed")["reason"] == "lastParticipantLeft"
    assert one(leave, elastic_type="sessionSummary")["reason"] == "lastParticipantLeft"
    assert len(of(leave, elastic_type="connectionSummary")) == 2
    assert one(leave, elastic_type="publisherSummary")["reason"] == "disconnect"
    assert one(leave, elastic_type="subscriberSummary")["rtcsim_side"] == "client"

    # -- a deleted room
    deleted = of(docs, sessionId=rooms["deleted"])
    left = of(deleted, event="participantLeft")
    assert sorted(d["user"] for d in left) == ["carol", "dave"]
    assert {d["reason"] for d in left} == {"sessionClosedByServer"}
    assert one(deleted, event="webrtcConnectionDestroyed")["reason"] == "sessionClosedByServer"
    assert one(deleted, event="sessionDestroyed")["reason"] == "sessionClosedByServer"
    assert one(deleted, elastic_type="sessionSummary")["reason"] == "sessionClosedByServer"

    # -- a vanished participant, let go by LiveKit on its own
    gone = of(docs, sessionId=rooms["vanished"])
    erin = one(gone, event="participantLeft")
    assert erin["user"] == "erin"
    assert erin["reason"] == "networkDisconnect"
    noticed_s = (erin["timestamp"] - gone_ms) / 1000
    assert 15 <= noticed_s <= 30, f"LiveKit let erin go {noticed_s:.1f} s after she vanished"
    assert one(gone, event="webrtcConnectionDestroyed")["reason"] == "networkDisconnect"
    assert one(gone, event="sessionDestroyed")["reason"] == "lastParticipantLeft"
