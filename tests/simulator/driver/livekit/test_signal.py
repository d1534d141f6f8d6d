"""The signalling client against a small fake of LiveKit's /rtc WebSocket (loopback only)."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from livekit.protocol import models
from livekit.protocol import rtc as pb

from simulator.driver.livekit.signal import (
    PROTOCOL_VERSION,
    SignalConnection,
    SignalError,
    join_url,
    kind_of,
)


@dataclass
class FakeLiveKit:
    """Accepts token "good", answers a JoinResponse, then plays ``script`` per request kind."""

    queries: list[dict[str, str]] = field(default_factory=list)
    received: list[pb.SignalRequest] = field(default_factory=list)
    script: dict[str, list[pb.SignalResponse]] = field(default_factory=dict)
    close_after: str | None = None
    pinged_twice: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/rtc", self.rtc)
        app.router.add_get("/rtc/validate", self.validate)
        return app

    async def validate(self, request: web.Request) -> web.Response:
        return web.Response(status=401, text="invalid token: signature is invalid")

    async def rtc(self, request: web.Request) -> web.StreamResponse:
        self.queries.append(dict(request.query))
        if request.query.get("access_token") != "good":
            return web.Response(status=401, text="invalid token")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        join = pb.JoinResponse(
            room=models.Room(name="room-1", sid="RM_1"),
            participant=models.ParticipantInfo(sid="PA_1", identity="alice"),
            ping_interval=5,
        )
        await ws.send_bytes(pb.SignalResponse(join=join).SerializeToString())
        async for message in ws:
            request_pb = pb.SignalRequest()
            request_pb.ParseFromString(message.data)
            self.received.append(request_pb)
            kind = request_pb.WhichOneof("message") or ""
            if kind == "ping_req":
                if sum(r.WhichOneof("message") == "ping_req" for r in self.received) >= 2:
                    self.pinged_twice.set()
                pong = pb.Pong(last_ping_timestamp=request_pb.ping_req.timestamp)
                await ws.send_bytes(pb.SignalResponse(pong_resp=pong).SerializeToString())
            for response in self.script.get(kind, []):
                await ws.send_bytes(response.SerializeToString())
            if kind == self.close_after:
                await ws.close()
        return ws


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeLiveKit, str, aiohttp.ClientSession]]:
    livekit = FakeLiveKit()
    server = TestServer(livekit.app(), host="127.0.0.1")
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        yield livekit, f"ws://127.0.0.1:{server.port}", http
    await server.close()


def add_track(cid: str) -> pb.SignalRequest:
    return pb.SignalRequest(add_track=pb.AddTrackRequest(cid=cid, type=models.TrackType.VIDEO))


def published(cid: str, sid: str) -> pb.SignalResponse:
    track = models.TrackInfo(sid=sid, type=models.TrackType.VIDEO)
    return pb.SignalResponse(track_published=pb.TrackPublishedResponse(cid=cid, track=track))


def test_the_join_url_asks_for_protocol_16_without_auto_subscribe() -> None:
    url = join_url("ws://198.18.24.1:7880/", "tok")
    assert url.startswith("ws://198.18.24.1:7880/rtc?access_token=tok&")
    assert "auto_subscribe=0" in url
    assert f"protocol={PROTOCOL_VERSION}" in url
    assert "browser=safari" in url  # no subscriber transceiver reuse (aiortc cannot take it)
    assert "sdk=" not in url


async def test_a_join_returns_the_join_response(
    fake: tuple[FakeLiveKit, str, aiohttp.ClientSession],
) -> None:
    livekit, url, http = fake
    conn = await SignalConnection.connect(http, url, "good", lambda _: None)
    assert conn.join.participant.sid == "PA_1"
    assert livekit.queries[0]["auto_subscribe"] == "0"
    await conn.close()


async def test_a_refused_token_says_why_from_the_validate_endpoint(
    fake: tuple[FakeLiveKit, str, aiohttp.ClientSession],
) -> None:
    _, url, http = fake
    with pytest.raises(SignalError, match=r"HTTP 401.*signature is invalid"):
        await SignalConnection.connect(http, url, "bad", lambda _: None)


async def test_a_request_gets_its_own_reply_and_other_messages_go_to_the_handler(
    fake: tuple[FakeLiveKit, str, aiohttp.ClientSession],
) -> None:
    livekit, url, http = fake
    update = pb.SignalResponse(update=pb.ParticipantUpdate())
    livekit.script["add_track"] = [update, published("other", "TR_0"), published("c1", "TR_1")]
    pushed: list[str] = []
    conn = await SignalConnection.connect(http, url, "good", lambda r: pushed.append(kind_of(r)))
    reply = await conn.request(
        add_track("c1"), "track_published", lambda r: r.track_published.cid == "c1"
    )
    assert reply.track_published.track.sid == "TR_1"
    await asyncio.sleep(0)
    assert pushed == ["update", "track_published"]  # the unmatched one was not swallowed
    await conn.close()


async def test_a_closed_signalling_fails_the_waiting_request(
    fake: tuple[FakeLiveKit, str, aiohttp.ClientSession],
) -> None:
    livekit, url, http = fake
    livekit.close_after = "add_track"
    conn = await SignalConnection.connect(http, url, "good", lambda _: None)
    with pytest.raises(SignalError, match="closed"):
        await conn.request(add_track("c1"), "track_published", timeout_s=5)
    assert conn.closed.is_set()
    with pytest.raises(SignalError, match="closed"):
        await conn.send(add_track("c2"))


async def test_no_reply_in_time_is_a_signal_error_naming_the_request(
    fake: tuple[FakeLiveKit, str, aiohttp.ClientSession],
) -> None:
    _, url, http = fake
    conn = await SignalConnection.connect(http, url, "good", lambda _: None)
    with pytest.raises(SignalError, match=r"no track_published within 0\.05 s for add_track"):
        await conn.request(add_track("c1"), "track_published", timeout_s=0.05)
    await conn.close()


async def test_pings_go_out_at_the_interval_and_pongs_measure_the_rtt(
    fake: tuple[FakeLiveKit, str, aiohttp.ClientSession],
) -> None:
    livekit, url, http = fake
    conn = await SignalConnection.connect(http, url, "good", lambda _: None, ping_interval_s=0.01)
    async with asyncio.timeout(5):
        await livekit.pinged_twice.wait()
    assert conn.rtt_ms >= 0
    conn.stop_pings()
    await conn.close()


async def test_an_abandoned_connection_sends_nothing_more(
    fake: tuple[FakeLiveKit, str, aiohttp.ClientSession],
) -> None:
    livekit, url, http = fake
    conn = await SignalConnection.connect(http, url, "good", lambda _: None, ping_interval_s=0.01)
    await conn.abandon()
    seen = len(livekit.received)
    await asyncio.sleep(0.05)
    assert len(livekit.received) == seen
    assert not conn.ws.closed  # left open and silent, as a vanished network leaves it
    await conn.close()
