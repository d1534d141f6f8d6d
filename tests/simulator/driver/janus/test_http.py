"""The HTTP driver against a small fake of Janus's long-poll behaviour (no sockets to Janus)."""

import asyncio
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from simulator.driver.janus.http import JanusError, JanusSession


class FakeJanus:
    """Acks plugin messages and delivers the reply on the long-poll *before* the ack returns."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.app = web.Application()
        self.app.router.add_post("/janus", self.create)
        self.app.router.add_post("/janus/{sid}", self.session_request)
        self.app.router.add_post("/janus/{sid}/{hid}", self.handle_request)
        self.app.router.add_get("/janus/{sid}", self.poll)
        self.polls = 0
        self.gone = False
        self.url = ""

    async def create(self, request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response(
            {"janus": "success", "transaction": body["transaction"], "data": {"id": 11}}
        )

    async def session_request(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body["janus"] == "attach":
            return web.json_response(
                {"janus": "success", "transaction": body["transaction"], "data": {"id": 22}}
            )
        return web.json_response({"janus": "ack", "transaction": body["transaction"]})

    async def handle_request(self, request: web.Request) -> web.Response:
        body = await request.json()
        tx = body["transaction"]
        request_name = body["body"]["request"]
        data: dict[str, Any] = {"videoroom": "joined", "id": "me"}
        if request_name == "bad":
            data = {"videoroom": "event", "error_code": 426, "error": "No such room"}
        await self.queue.put(
            {"janus": "event", "sender": 22, "transaction": tx, "plugindata": {"data": data}}
        )
        await self.queue.put({"janus": "webrtcup", "sender": 22})
        await asyncio.sleep(0.05)  # the reply is already on the long-poll when the ack comes
        return web.json_response({"janus": "ack", "transaction": tx})

    async def poll(self, request: web.Request) -> web.Response:
        self.polls += 1
        if self.gone:  # as Janus answers once the session timed out
            error = {"code": 458, "reason": "No such session 11"}
            return web.json_response({"janus": "error", "error": error})
        try:
            event = await asyncio.wait_for(self.queue.get(), 1.0)
        except TimeoutError:
            return web.json_response([{"janus": "keepalive"}])
        return web.json_response([event])


@pytest.fixture
async def fake() -> Any:
    fake = FakeJanus()
    server = TestServer(fake.app, host="127.0.0.1")
    await server.start_server()
    fake.url = str(server.make_url("/janus"))
    yield fake
    await server.close()


@pytest.fixture
def janus_url(fake: Any) -> str:
    return str(fake.url)


async def test_a_reply_that_overtakes_its_ack_still_reaches_the_request(janus_url: str) -> None:
    async with aiohttp.ClientSession() as http:
        session = await JanusSession.create(http, janus_url)
        handle = await session.attach("janus.plugin.videoroom")
        reply = await handle.message({"request": "join"})
        assert reply.data == {"videoroom": "joined", "id": "me"}
        await handle.wait_for("webrtcup", timeout_s=2)
        await session.abandon()


async def test_a_plugin_error_becomes_a_janus_error_with_its_code(janus_url: str) -> None:
    async with aiohttp.ClientSession() as http:
        session = await JanusSession.create(http, janus_url)
        handle = await session.attach("janus.plugin.videoroom")
        with pytest.raises(JanusError) as caught:
            await handle.message({"request": "bad"})
        assert caught.value.code == 426
        assert "No such room" in str(caught.value)
        await session.abandon()


async def test_a_session_janus_no_longer_knows_stops_its_long_poll(fake: Any) -> None:
    async with aiohttp.ClientSession() as http:
        session = await JanusSession.create(http, fake.url)
        fake.gone = True
        await asyncio.sleep(1.5)  # the pending poll ends, the next one is answered 458
        polls = fake.polls
        await asyncio.sleep(0.5)
        assert session.closed
        assert fake.polls == polls  # no more asking
        await session.abandon()
