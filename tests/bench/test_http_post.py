"""The benchmarks' lean HTTP sender against a real aiohttp server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bench.http_post import HttpPoster, HttpPostError, parse_head

SEEN: web.AppKey[list[tuple[str, bytes]]] = web.AppKey("seen", list)


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    seen: list[tuple[str, bytes]] = []

    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        seen.append((request.headers["Authorization"], body))
        if body == b"bad":
            return web.json_response({"error": "bad"}, status=400)
        return web.json_response({"n": len(seen)})

    app = web.Application()
    app.router.add_post("/events", echo)
    app[SEEN] = seen
    async with TestServer(app, host="127.0.0.1") as test_server:
        yield test_server


async def test_posts_go_in_order_on_one_connection_and_each_gets_its_answer(
    server: TestServer,
) -> None:
    url = str(server.make_url("/events"))
    async with HttpPoster(url) as poster:
        answers = [await poster.post(poster.request("Bearer t", b"[%d]" % i)) for i in range(3)]
    assert answers == [b'{"n": 1}', b'{"n": 2}', b'{"n": 3}']
    assert server.app[SEEN] == [("Bearer t", b"[0]"), ("Bearer t", b"[1]"), ("Bearer t", b"[2]")]


async def test_an_answer_other_than_200_is_an_error_with_its_body(server: TestServer) -> None:
    async with HttpPoster(str(server.make_url("/events"))) as poster:
        with pytest.raises(HttpPostError, match="answered 400"):
            await poster.post(poster.request("Bearer t", b"bad"))


def test_the_head_gives_status_length_and_whether_the_connection_closes() -> None:
    head = b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 12\r\nConnection: close"
    assert parse_head(head) == (413, 12, True)
    with pytest.raises(HttpPostError, match="Content-Length"):
        parse_head(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain")
