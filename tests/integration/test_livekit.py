"""LiveKit, the real server, in the SFU namespace, driven by aiortc participants.

Needs only the namespaces and livekit-server (built on first use, minutes once); neither
Elasticsearch nor the collector. LiveKit's webhooks go to a small receiver whose socket sits on
127.0.0.1 inside the SFU namespace (where LiveKit posts from), served from this process; each
webhook is verified as the collector will verify it (``WebhookReceiver``, the stack's keys).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from aiohttp import web
from livekit.api import TokenVerifier, WebhookReceiver
from livekit.protocol import models
from livekit.protocol.webhook import WebhookEvent

from collector.netns import listening_socket
from rtcsim.services import livekit, netns
from rtcsim.services.errors import LiveKitStartupError, PortInUseError
from rtcsim.services.sockets import listening
from simulator.driver.livekit.keys import LiveKitCredentials
from simulator.driver.livekit.link import LiveKitLink
from simulator.driver.livekit.room_service import LiveKitRooms
from simulator.netns_loop import NamespaceLoop
from simulator.participant import Participant
from simulator.peers.publishing import PublishOptions
from simulator.settings import Settings

pytestmark = pytest.mark.integration
DEFAULT_STACK = False  # no Elasticsearch, collector or Janus needed (tests/conftest.py)

T = TypeVar("T")
BENCHMARK_NET = ipaddress.ip_network("198.18.0.0/15")
Reason = models.DisconnectReason


@dataclass
class Inbox:
    """The webhooks LiveKit posted, as received (body text and Authorization header)."""

    url: str = ""
    hooks: list[tuple[str, str]] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        with self.changed:
            self.hooks.append((body, request.headers.get("Authorization", "")))
            self.changed.notify_all()
        return web.Response(text="ok")

    def events(self, keys: LiveKitCredentials) -> list[WebhookEvent]:
        """Every webhook so far, verified (signature and body hash) with ``keys``."""
        receiver = WebhookReceiver(TokenVerifier(keys.api_key, keys.api_secret))
        with self.changed:
            hooks = list(self.hooks)
        return [receiver.receive(body, auth) for body, auth in hooks]

    def wait_for(
        self,
        keys: LiveKitCredentials,
        ready: Callable[[list[WebhookEvent]], bool],
        timeout_s: float = 10.0,
    ) -> list[WebhookEvent]:
        deadline = time.monotonic() + timeout_s
        while True:
            events = self.events(keys)
            if ready(events):
                return events
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"webhooks so far: {[describe(e) for e in events]}")
            with self.changed:
                self.changed.wait(min(left, 0.5))


def describe(event: WebhookEvent) -> str:
    who = event.participant.identity
    reason = Reason.Name(event.participant.disconnect_reason) if who else ""
    return " ".join(part for part in (event.event, event.room.name, who, reason) if part)


def in_room(room: str, events: list[WebhookEvent]) -> list[WebhookEvent]:
    return [e for e in events if e.room.name == room]


@pytest.fixture(scope="module")
def inbox(settings: Settings) -> Iterator[Inbox]:
    netns.ensure(settings)
    sock = listening_socket("127.0.0.1", 0, settings.sfu_netns)
    received = Inbox(url=f"http://127.0.0.1:{sock.getsockname()[1]}/livekit")
    loop = NamespaceLoop(None, name="livekit-webhooks")
    app = web.Application()
    app.router.add_post("/livekit", received.handle)
    runner = web.AppRunner(app, access_log=None)

    async def serve() -> None:
        await runner.setup()
        await web.SockSite(runner, sock).start()

    loop.run_sync(serve())
    yield received
    loop.run_sync(runner.cleanup())
    loop.close()


@pytest.fixture(scope="module")
def lk(settings: Settings, inbox: Inbox) -> Iterator[Settings]:
    """Settings of a LiveKit that posts its webhooks to ``inbox``, running."""
    lk_settings = settings.model_copy(update={"livekit_webhook_url": inbox.url})
    status = livekit.start(lk_settings)
    yield lk_settings
    if not status.reused:
        livekit.stop(lk_settings)


@pytest.fixture(scope="module")
def keys(lk: Settings) -> LiveKitCredentials:
    return livekit.credentials(lk)


@pytest.fixture(scope="module")
def client(lk: Settings) -> Iterator[NamespaceLoop]:
    with NamespaceLoop(lk.client_netns, name="livekit-clients") as loop:
        yield loop


@pytest.fixture
def room() -> str:
    return f"lk-{uuid.uuid4().hex[:8]}"


def run(client: NamespaceLoop, coro: Coroutine[Any, Any, T], timeout_s: float = 90.0) -> T:
    return client.run_sync(coro, timeout=timeout_s)


class Session:
    """Participants of one test, on one aiohttp session, closed at the end whatever happens."""

    def __init__(self, lk: Settings, keys: LiveKitCredentials) -> None:
        self.lk = lk
        self.keys = keys
        self.http: aiohttp.ClientSession | None = None
        self.participants: list[Participant] = []

    async def __aenter__(self) -> Session:
        self.http = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        # A clean leave for whoever is still in: one that just closed would linger in the
        # room until LiveKit's connection timeout (~20 s) and keep it from draining.
        for participant in self.participants:
            if participant.left_wall_ms is None and not link(participant).removed.is_set():
                with contextlib.suppress(Exception):
                    await participant.leave()
            await participant.close_quietly()
        if self.http is not None:
            await self.http.close()

    def participant(self, name: str) -> Participant:
        """A participant driven as a run drives it: the protocol's participant on a LiveKit link
        (its identity, and so its feed name, is ``name``)."""
        assert self.http is not None
        lk_link = LiveKitLink(self.http, self.lk.livekit_url, self.keys, name, name.title())
        made = Participant(lk_link, name, name.title())
        self.participants.append(made)
        return made

    def rooms(self) -> LiveKitRooms:
        assert self.http is not None
        return LiveKitRooms(self.http, self.lk.livekit_http_url, self.keys)

    async def publisher_and_viewer(
        self, room: str, media: str = "live"
    ) -> tuple[Participant, Participant]:
        alice, bob = self.participant("alice"), self.participant("bob")
        await alice.join(room)
        await bob.join(room)
        await alice.publish("alice_CAMERA", PublishOptions(media=media))  # type: ignore[arg-type]
        await bob.subscribe("alice", "alice_CAMERA", media=media)  # type: ignore[arg-type]
        return alice, bob


def link(participant: Participant) -> LiveKitLink:
    assert isinstance(participant.link, LiveKitLink)
    return participant.link


def frames(viewer: Participant, kind: str, publisher: str = "alice") -> int:
    counters = viewer.subscriptions[publisher].received.get(kind)
    return counters.frames if counters is not None else 0


def test_a_viewer_receives_the_publishers_audio_and_video_over_namespace_addresses_only(
    lk: Settings, keys: LiveKitCredentials, client: NamespaceLoop, room: str
) -> None:
    async def scenario() -> tuple[int, int, set[str]]:
        async with Session(lk, keys) as session:
            alice, bob = await session.publisher_and_viewer(room)
            await asyncio.sleep(3.0)
            addresses: set[str] = set()
            for participant in (alice, bob):  # in the SDPs, and trickled
                addresses.update(participant.candidate_addresses())
            return frames(bob, "video"), frames(bob, "audio"), addresses

    video, audio, addresses = run(client, scenario())
    assert video >= 45, f"{video} video frames in 3 s (30 fps sent)"
    assert audio >= 100, f"{audio} audio frames in 3 s (50 per second sent)"
    assert addresses, "no ICE candidate seen at all"
    assert all(ipaddress.ip_address(a) in BENCHMARK_NET for a in addresses), addresses


def test_muting_video_stops_its_frames_until_it_is_unmuted(
    lk: Settings, keys: LiveKitCredentials, client: NamespaceLoop, room: str
) -> None:
    async def scenario() -> tuple[int, int, int]:
        async with Session(lk, keys) as session:
            alice, bob = await session.publisher_and_viewer(room)
            await asyncio.sleep(1.0)
            await alice.mute("video", True)
            await asyncio.sleep(0.5)  # what was in flight arrives
            muted_from = frames(bob, "video")
            await asyncio.sleep(2.0)
            muted_to = frames(bob, "video")
            await alice.mute("video", False)
            await asyncio.sleep(2.0)
            return muted_from, muted_to, frames(bob, "video")

    muted_from, muted_to, unmuted = run(client, scenario())
    assert muted_to - muted_from <= 2, "LiveKit kept forwarding a muted video track"
    assert unmuted - muted_to >= 20, "video did not come back after unmute"


def test_unpublishing_ends_the_tracks_for_the_viewer_and_in_the_webhooks(
    lk: Settings, keys: LiveKitCredentials, client: NamespaceLoop, inbox: Inbox, room: str
) -> None:
    async def scenario() -> tuple[set[str], list[str]]:
        async with Session(lk, keys) as session:
            alice, bob = await session.publisher_and_viewer(room)
            sids = set(link(alice).published.values())
            assert len(sids) == 2, sids
            await alice.unpublish()
            roster = link(bob).roster
            await roster.wait_for(lambda: not roster.tracks("alice"), 10)
            return sids, list(roster.tracks("alice"))

    sids, left = run(client, scenario())
    assert left == []
    events = inbox.wait_for(
        keys,
        lambda es: (
            {e.track.sid for e in in_room(room, es) if e.event == "track_unpublished"} >= sids
        ),
    )
    published = {e.track.sid for e in in_room(room, events) if e.event == "track_published"}
    assert published == sids


def test_a_participant_removed_through_room_service_is_told_and_recorded_as_removed(
    lk: Settings, keys: LiveKitCredentials, client: NamespaceLoop, inbox: Inbox, room: str
) -> None:
    async def scenario() -> int | None:
        async with Session(lk, keys) as session:
            _alice, bob = await session.publisher_and_viewer(room)
            await session.rooms().remove_participant(room, "bob")
            await asyncio.wait_for(link(bob).removed.wait(), 10)
            return link(bob).removed_reason

    assert run(client, scenario()) == Reason.PARTICIPANT_REMOVED
    events = inbox.wait_for(
        keys,
        lambda es: any(
            e.event == "participant_left" and e.participant.identity == "bob"
            for e in in_room(room, es)
        ),
    )
    left = next(e for e in in_room(room, events) if e.event == "participant_left")
    assert left.participant.disconnect_reason == Reason.PARTICIPANT_REMOVED


def test_deleting_the_room_ends_everyone_in_it_with_room_deleted(
    lk: Settings, keys: LiveKitCredentials, client: NamespaceLoop, inbox: Inbox, room: str
) -> None:
    async def scenario() -> tuple[int | None, int | None]:
        async with Session(lk, keys) as session:
            alice, bob = await session.publisher_and_viewer(room)
            await session.rooms().delete_room(room)
            gone = (link(alice).removed.wait(), link(bob).removed.wait())
            await asyncio.wait_for(asyncio.gather(*gone), 10)
            return link(alice).removed_reason, link(bob).removed_reason

    assert run(client, scenario()) == (Reason.ROOM_DELETED, Reason.ROOM_DELETED)
    events = inbox.wait_for(
        keys, lambda es: any(e.event == "room_finished" for e in in_room(room, es))
    )
    reasons = {
        e.participant.identity: e.participant.disconnect_reason
        for e in in_room(room, events)
        if e.event == "participant_left"
    }
    assert reasons == {"alice": Reason.ROOM_DELETED, "bob": Reason.ROOM_DELETED}


def test_the_webhooks_of_a_session_are_signed_and_tell_it_from_start_to_finish(
    lk: Settings, keys: LiveKitCredentials, client: NamespaceLoop, inbox: Inbox, room: str
) -> None:
    async def scenario() -> dict[str, str]:
        async with Session(lk, keys) as session:
            alice, bob = await session.publisher_and_viewer(room)
            await alice.unpublish()
            await bob.leave()
            await alice.leave()
            return {"alice": alice.server_id, "bob": bob.server_id}

    sids = run(client, scenario())
    events = in_room(
        room,
        inbox.wait_for(keys, lambda es: any(e.event == "room_finished" for e in in_room(room, es))),
    )
    names = [e.event for e in events]
    assert names[0] == "room_started"
    assert names[-1] == "room_finished"
    assert names.count("participant_joined") == 2
    assert names.count("track_published") == 2
    assert names.count("track_unpublished") == 2
    left = {
        e.participant.sid: e.participant.disconnect_reason
        for e in events
        if e.event == "participant_left"
    }
    assert left == {sids["alice"]: Reason.CLIENT_INITIATED, sids["bob"]: Reason.CLIENT_INITIATED}
    # A body that is not the one LiveKit signed does not verify.
    body, auth = inbox.hooks[-1]
    tampered = json.dumps({**json.loads(body), "event": "room_started"})
    with pytest.raises(Exception, match="hash mismatch"):
        WebhookReceiver(TokenVerifier(keys.api_key, keys.api_secret)).receive(tampered, auth)


def test_cheap_media_publishes_clips_and_counts_frames_without_decoding(
    lk: Settings, keys: LiveKitCredentials, client: NamespaceLoop, room: str
) -> None:
    async def scenario() -> tuple[int, int]:
        async with Session(lk, keys) as session:
            _alice, bob = await session.publisher_and_viewer(room, media="cheap")
            await asyncio.sleep(3.0)
            return frames(bob, "video"), frames(bob, "audio")

    video, audio = run(client, scenario())
    # LiveKit forwards from the next keyframe; a clip has one a second.
    assert video >= 30, f"{video} video frames in 3 s"
    assert audio >= 100, f"{audio} audio frames in 3 s"


def test_livekit_listens_only_on_the_sfu_address_and_its_udp_range(
    lk: Settings, keys: LiveKitCredentials, client: NamespaceLoop, room: str
) -> None:
    pid = livekit.pid(lk)
    assert pid is not None

    async def scenario() -> set[tuple[str, str, int]]:
        async with Session(lk, keys) as session:
            await session.publisher_and_viewer(room)  # three peer connections up
            return listening(pid)

    sockets = run(client, scenario())
    tcp = {(address, port) for proto, address, port in sockets if proto == "tcp"}
    assert tcp == {
        (lk.sfu_address, lk.livekit_port),
        (lk.sfu_address, lk.livekit_prometheus_port),
    }
    low, high = lk.livekit_rtc_ports
    udp = {(address, port) for proto, address, port in sockets if proto == "udp"}
    assert len(udp) >= 3, udp
    assert all(address == lk.sfu_address and low <= port <= high for address, port in udp), udp


def test_a_vanished_participant_is_timed_out_by_livekit_on_its_own(
    lk: Settings, keys: LiveKitCredentials, client: NamespaceLoop, inbox: Inbox, room: str
) -> None:
    """Nothing leaves the participant any more (no DTLS alert, no LeaveRequest; its WebSocket
    stays open and silent): LiveKit's ICE gives up after 10 + 5 s and its disconnect timer
    after 5 more (``rtc/transport.go``, ``participant.go``), so about 20 s."""

    def alice_left(events: list[WebhookEvent]) -> bool:
        return any(
            e.event == "participant_left" and e.participant.identity == "alice"
            for e in in_room(room, events)
        )

    async def scenario() -> float:
        async with Session(lk, keys) as session:
            alice, _bob = await session.publisher_and_viewer(room, media="cheap")
            await asyncio.sleep(1.0)
            await alice.vanish()
            vanished_at = time.monotonic()
            # The WebSocket stays open (and silent) until LiveKit has given up on alice.
            await asyncio.to_thread(inbox.wait_for, keys, alice_left, 40.0)
            return time.monotonic() - vanished_at

    noticed_after_s = run(client, scenario())
    left = next(
        e
        for e in in_room(room, inbox.events(keys))
        if e.event == "participant_left" and e.participant.identity == "alice"
    )
    assert left.participant.disconnect_reason == Reason.CONNECTION_TIMEOUT
    assert 10.0 <= noticed_after_s <= 40.0, noticed_after_s


def test_a_livekit_that_dies_at_start_is_reported_with_the_tail_of_its_log(
    lk: Settings, tmp_path: Path
) -> None:
    """What `rtcsim services up --livekit` prints (exit 2) when the server will not run."""
    fake = tmp_path / "server"
    fake.write_text("#!/bin/sh\necho 'could not parse config: bad rtc block' >&2\nexit 3\n")
    fake.chmod(0o755)
    other = lk.model_copy(
        update={"state_dir": tmp_path / "state", "livekit_port": 7979, "livekit_prometheus_port": 0}
    )
    with pytest.raises(LiveKitStartupError) as failure:
        livekit.start(other, binary=fake, timeout_s=10)
    message = str(failure.value)
    assert "LiveKit exited with code 3" in message
    assert "could not parse config: bad rtc block" in message
    assert "livekit.log" in message
    assert livekit.pid(other) is None


def test_a_second_livekit_on_a_taken_port_says_which_port_and_what_to_do(
    lk: Settings, tmp_path: Path
) -> None:
    assert livekit.pid(lk) is not None  # the module's LiveKit holds livekit_port
    other = lk.model_copy(update={"state_dir": tmp_path / "state"})
    with pytest.raises(
        PortInUseError, match=rf"signalling port {lk.sfu_address}:{lk.livekit_port}"
    ):
        livekit.start(other)
    assert livekit.pid(other) is None
