"""The one client factory: the server's major chooses the compatibility header, an unsupported
version is refused by name. A small HTTP server here records what the client sends (the real
servers of every major are in the contract suite and ``tests/integration/``)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from collector.store.client import (
    ClientOptions,
    ServerVersion,
    UnsupportedVersionError,
    connect,
    open_client,
)

PRODUCT = {"X-Elastic-Product": "Elasticsearch"}


@dataclass
class FakeServer:
    """Answers ``GET /`` (or 405 like the minimal distribution), ``GET /_nodes``, ``_count``."""

    version: str
    root_allowed: bool = True
    node_versions: tuple[str, ...] = ()
    unavailable: bool = False  # every request but the version's answers 503
    seen: list[tuple[str, str, str]] = field(default_factory=list)  # path, accept, content-type

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(
            (
                request.path,
                request.headers.get("Accept", ""),
                request.headers.get("Content-Type", ""),
            )
        )
        if request.path == "/":
            if not self.root_allowed:
                return web.json_response({"error": "Incorrect HTTP method"}, status=405)
            return web.json_response({"version": {"number": self.version}}, headers=PRODUCT)
        if request.path == "/_nodes":
            nodes = {f"n{i}": {"version": v} for i, v in enumerate(self.node_versions)}
            return web.json_response({"nodes": nodes}, headers=PRODUCT)
        if self.unavailable:
            return web.json_response({"error": "unavailable"}, status=503, headers=PRODUCT)
        return web.json_response({"count": 3}, headers=PRODUCT)


async def serving(server: FakeServer) -> AsyncIterator[str]:
    runner = web.AppRunner(server.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def es8() -> AsyncIterator[tuple[FakeServer, str]]:
    server = FakeServer("8.19.21")
    async for url in serving(server):
        yield server, url


async def test_an_8x_server_is_asked_in_plain_json_then_spoken_to_as_8(
    es8: tuple[FakeServer, str],
) -> None:
    server, url = es8
    async with open_client(ClientOptions((url,))) as es:
        await es.count(index="openvidu", query={"match_all": {}})
    (root, root_accept, _), (count, accept, content_type) = server.seen
    assert root == "/"
    assert root_accept == "application/json"
    assert count == "/openvidu/_count"
    assert accept == "application/vnd.elasticsearch+json; compatible-with=8"
    assert content_type == "application/vnd.elasticsearch+json; compatible-with=8"


@pytest.mark.parametrize(("version", "major"), [("7.17.29", 7), ("9.5.0", 9)])
async def test_each_supported_major_gets_its_own_compatibility_header(
    version: str, major: int
) -> None:
    server = FakeServer(version)
    async for url in serving(server):
        connection = await connect(ClientOptions((url,)))
        try:
            assert connection.version == ServerVersion.parse(version)
            await connection.client.count(index="x")
        finally:
            await connection.client.close()
    assert server.seen[-1][1] == f"application/vnd.elasticsearch+json; compatible-with={major}"


async def test_without_get_root_the_oldest_node_of_the_cluster_decides() -> None:
    server = FakeServer("", root_allowed=False, node_versions=("9.5.0", "8.19.21", "9.5.0"))
    async for url in serving(server):
        connection = await connect(ClientOptions((url,)))
        await connection.client.close()
    assert str(connection.version) == "8.19.21"


async def test_the_minimal_distributions_405_logs_no_node_failure_but_a_real_one_still_does(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The probe's 405 to ``GET /`` is expected (integ-test-zip), not a failing node; a 503 to
    a later request is, and must still be logged."""
    server = FakeServer("", root_allowed=False, node_versions=("9.5.0",))
    caplog.set_level("WARNING", logger="elastic_transport.node_pool")
    async for url in serving(server):
        connection = await connect(ClientOptions((url,)))
        try:
            assert not [r for r in caplog.records if r.name == "elastic_transport.node_pool"]
            server.unavailable = True
            await connection.client.options(max_retries=0).count(index="x")
        except Exception:  # the 503 itself is not what is tested
            pass
        finally:
            await connection.client.close()
    assert [r for r in caplog.records if r.name == "elastic_transport.node_pool"]


@pytest.mark.parametrize("version", ["6.8.23", "7.16.3", "10.0.0"])
async def test_an_unsupported_version_is_refused_naming_it_and_the_host(version: str) -> None:
    server = FakeServer(version)
    async for url in serving(server):
        with pytest.raises(UnsupportedVersionError) as caught:
            await connect(ClientOptions((url,)))
    assert str(caught.value) == (
        f"Elasticsearch {version} at {url} is not supported: "
        "rtcsim writes to Elasticsearch 7.17, 8.x and 9.x"
    )


def test_versions_parse_and_compare() -> None:
    assert ServerVersion.parse("8.19.21") > ServerVersion.parse("8.9.0")
    assert ServerVersion.parse("9.0.0-SNAPSHOT").major == 9
    assert ServerVersion.parse("7.17").supported
    assert not ServerVersion.parse("7.10.2").supported
    with pytest.raises(ValueError, match="not an Elasticsearch version"):
        ServerVersion.parse("8")


def test_no_host_is_an_error() -> None:
    with pytest.raises(ValueError, match="no host"):
        ClientOptions(())


def _serve_in_thread(server: FakeServer) -> Iterator[str]:
    loop = asyncio.new_event_loop()
    urls: list[str] = []
    ready, stop = threading.Event(), asyncio.Event()

    async def run() -> None:
        async for url in serving(server):
            urls.append(url)
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(run(),), daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield urls[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


def test_the_collector_refuses_an_unsupported_version_in_one_line_and_exit_2() -> None:
    for url in _serve_in_thread(FakeServer("6.8.23")):
        proc = subprocess.run(
            [sys.executable, "-m", "collector", "--es-hosts", url, "--store", "elasticsearch"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"rtcsim-collector: error: Elasticsearch 6.8.23 at {url} is not supported: "
        "rtcsim writes to Elasticsearch 7.17, 8.x and 9.x"
    )
