"""Namespaces and the namespace event loop on the real kernel (root), with names of their own."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.netns import NetnsError
from rtcsim.services import netns
from rtcsim.services.errors import NamespaceError
from rtcsim.services.process import run
from simulator.netns_loop import NamespaceLoop
from simulator.settings import Settings

from .conftest import make_settings

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
]


@pytest.fixture
def pair(tmp_path: Path, integration_lock: None) -> Iterator[Settings]:
    """A namespace pair distinct from the stack tests' (they may run at the same time)."""
    settings = make_settings(
        tmp_path / "state",
        sfu_netns="rtcsvc-rsfu",
        client_netns="rtcsvc-rcli",
        sfu_veth="rtcsvc-rs0",
        client_veth="rtcsvc-rc0",
        sfu_address="198.19.1.1",
        client_address="198.19.1.2",
    )
    netns.remove(settings)
    yield settings
    netns.remove(settings)


def test_ensure_creates_both_namespaces_and_remove_deletes_them(pair: Settings) -> None:
    assert not netns.exists(pair)
    netns.ensure(pair)
    assert netns.exists(pair)
    assert netns.problems(pair) == []
    assert netns.remove(pair) == [pair.sfu_netns, pair.client_netns]
    assert not netns.exists(pair)
    assert netns.remove(pair) == []


def test_ensure_twice_changes_nothing(pair: Settings) -> None:
    netns.ensure(pair)
    before = run(["ip", "-n", pair.sfu_netns, "-j", "link", "show", pair.sfu_veth])
    netns.ensure(pair)
    assert run(["ip", "-n", pair.sfu_netns, "-j", "link", "show", pair.sfu_veth]) == before


def test_ensure_repairs_a_namespace_left_without_its_veth(pair: Settings) -> None:
    netns.ensure(pair)
    run(["ip", "-n", pair.sfu_netns, "link", "del", pair.sfu_veth])
    assert f"{pair.sfu_veth} is missing from {pair.sfu_netns}" in netns.problems(pair)
    netns.ensure(pair)
    assert netns.problems(pair) == []


def test_ensure_recreates_a_deleted_namespace_beside_a_surviving_one(pair: Settings) -> None:
    netns.ensure(pair)
    run(["ip", "netns", "del", pair.client_netns])
    netns.ensure(pair)
    assert netns.problems(pair) == []


def test_ensure_fixes_a_veth_left_down_without_addresses(pair: Settings) -> None:
    netns.ensure(pair)
    run(["ip", "-n", pair.client_netns, "addr", "flush", "dev", pair.client_veth])
    run(["ip", "-n", pair.client_netns, "link", "set", pair.client_veth, "down"])
    netns.ensure(pair)
    assert netns.problems(pair) == []


def test_an_interface_name_over_fifteen_characters_is_refused(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, sfu_veth="a-very-long-veth-name")
    with pytest.raises(NamespaceError, match="at most 15 characters"):
        netns.ensure(settings)


def test_an_address_outside_the_benchmark_range_is_refused(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, sfu_address="10.0.0.1", client_address="10.0.0.2")
    with pytest.raises(NamespaceError, match=r"outside 198\.18\.0\.0/15"):
        netns.ensure(settings)


async def test_a_namespace_loop_runs_coroutines_inside_its_namespace(pair: Settings) -> None:
    netns.ensure(pair)
    expected = os.stat(f"/var/run/netns/{pair.client_netns}").st_ino

    async def where() -> int:
        await asyncio.sleep(0)
        return os.stat("/proc/thread-self/ns/net").st_ino

    with NamespaceLoop(pair.client_netns) as loop:
        assert await loop.run(where()) == expected
        assert loop.run_sync(where(), timeout=5) == expected
        assert loop.submit(where()).result(5) == expected
    assert os.stat("/proc/thread-self/ns/net").st_ino != expected, "the caller never moved"


async def test_a_namespace_loop_reaches_the_other_end_of_the_veth(pair: Settings) -> None:
    netns.ensure(pair)
    server_loop = NamespaceLoop(pair.sfu_netns)
    client_loop = NamespaceLoop(pair.client_netns)
    try:

        async def serve() -> asyncio.Server:
            async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
                writer.write(await reader.readline())
                await writer.drain()
                writer.close()

            return await asyncio.start_server(echo, pair.sfu_address, 0)

        server = await server_loop.run(serve())
        port = server.sockets[0].getsockname()[1]

        async def ask() -> bytes:
            reader, writer = await asyncio.open_connection(pair.sfu_address, port)
            writer.write(b"ping\n")
            answer = await reader.readline()
            writer.close()
            await writer.wait_closed()
            return answer

        assert await client_loop.run(ask()) == b"ping\n"

        async def shut() -> None:
            server.close()
            await server.wait_closed()

        await server_loop.run(shut())
    finally:
        server_loop.close()
        client_loop.close()


def test_a_namespace_loop_for_a_missing_namespace_fails_at_once() -> None:
    with pytest.raises(NetnsError, match="does not exist"):
        NamespaceLoop("rtcsvc-missing")


def test_a_closed_namespace_loop_refuses_new_work(pair: Settings) -> None:
    netns.ensure(pair)
    loop = NamespaceLoop(pair.client_netns)
    loop.close()
    loop.close()

    async def nothing() -> None:
        return None

    with pytest.raises(RuntimeError, match="closed"):
        loop.submit(nothing())
