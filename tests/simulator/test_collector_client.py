"""The simulator's collector client rides out a collector that is briefly away, and only that."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from simulator.collector_client import CollectorClient, CollectorUnavailable

FAST = (0.01, 0.01, 0.01)
SEEN: web.AppKey[list[object]] = web.AppKey("seen", list)


def failing_app(
    fail_first: int, failure: Callable[[web.Request], web.StreamResponse]
) -> web.Application:
    """An app whose ``/sessions`` fails ``fail_first`` times with ``failure``, then answers 200."""
    seen: list[object] = []

    async def sessions(request: web.Request) -> web.StreamResponse:
        seen.append(await request.json())
        if len(seen) <= fail_first:
            return failure(request)
        return web.json_response({"ok": True, "documents": 0})

    app = web.Application()
    app.router.add_post("/sessions", sessions)
    app[SEEN] = seen
    return app


def dropped(request: web.Request) -> web.StreamResponse:
    """The connection closes without an answer, as when the collector is killed mid-request."""
    assert request.transport is not None
    request.transport.close()
    return web.Response()


def unavailable(_: web.Request) -> web.StreamResponse:
    return web.Response(status=503, text="starting")


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.mark.parametrize("failure", [dropped, unavailable])
async def test_a_post_is_retried_until_the_collector_answers(
    http: aiohttp.ClientSession, failure: Callable[[web.Request], web.StreamResponse]
) -> None:
    app = failing_app(2, failure)
    async with TestServer(app) as server:
        client = CollectorClient(http, str(server.make_url("")), "t", retry_delays_s=FAST)
        await client.post("/sessions", {"sessionId": "s1"})
    assert app[SEEN] == [{"sessionId": "s1"}] * 3
    assert client.retries == 2


async def test_a_collector_away_longer_than_the_retries_fails_the_post(
    http: aiohttp.ClientSession,
) -> None:
    app = failing_app(len(FAST) + 1, unavailable)
    async with TestServer(app) as server:
        client = CollectorClient(http, str(server.make_url("")), "t", retry_delays_s=FAST)
        with pytest.raises(CollectorUnavailable, match="503"):
            await client.post("/sessions", {"sessionId": "s1"})
    assert len(app[SEEN]) == len(FAST) + 1


async def test_a_refused_connection_is_retried_then_reported(http: aiohttp.ClientSession) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = CollectorClient(http, f"http://127.0.0.1:{port}", "t", retry_delays_s=FAST)
    with pytest.raises(CollectorUnavailable, match="unreachable"):
        await client.post("/sessions", {"sessionId": "s1"})
    assert client.retries == len(FAST)


async def test_a_request_the_collector_refuses_is_not_retried(http: aiohttp.ClientSession) -> None:
    app = failing_app(5, lambda _: web.json_response({"error": "bad"}, status=400))
    async with TestServer(app) as server:
        client = CollectorClient(http, str(server.make_url("")), "t", retry_delays_s=FAST)
        with pytest.raises(CollectorUnavailable, match="400"):
            await client.post("/sessions", {"sessionId": "s1"})
    assert len(app[SEEN]) == 1
    assert client.retries == 0
