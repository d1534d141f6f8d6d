"""The real stack on this machine: namespaces, Elasticsearch, (collector), Janus.

Uses its own names, addresses, ports and state dir (see ``conftest.TEST_OVERRIDES``), so it never
touches a default stack running beside it. Needs root.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import os
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import psutil
import pytest

from rtcsim.services import collector, elasticsearch, janus, netns, sockets, stack
from rtcsim.services.process import run
from simulator.netns_loop import NamespaceLoop
from simulator.settings import Settings

from .conftest import make_settings

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
]

# Not under /tmp/pytest-of-root (0700): the Elasticsearch user must be able to reach it.
STATE_DIR = Path("/tmp/rtcsvc-it-state")
CACHE_DIR = Path("/tmp/rtcsvc-cache")
WITH_COLLECTOR = importlib.util.find_spec("collector.__main__") is not None


@pytest.fixture(scope="module")
def stack_settings() -> Settings:
    return make_settings(STATE_DIR, cache_dir=CACHE_DIR)


@pytest.fixture(scope="module")
def running(stack_settings: Settings, integration_lock: None) -> Iterator[stack.StackStatus]:
    try:
        yield stack.up(stack_settings, with_collector=WITH_COLLECTOR)
    finally:
        stack.down(stack_settings)


def listening_addresses(pid: int) -> set[str]:
    return {address for _, address, _ in sockets.listening(pid)}


def stack_pids(settings: Settings) -> list[int]:
    """Every process of the stack rtcsim started: Janus, the collector, ES and its launcher."""
    pids = [janus.pid(settings), collector.pid(settings), elasticsearch.pid(settings)]
    launcher = elasticsearch.EsPaths.from_settings(settings).launcher_pid_file
    if launcher.exists():
        pids.append(int(launcher.read_text()))
    return [p for p in pids if p is not None and psutil.pid_exists(p)]


def test_up_brings_every_service_up_in_order(running: stack.StackStatus) -> None:
    assert [s.name for s in running.services] == [
        "namespaces",
        "elasticsearch",
        "collector",
        "janus",
    ]
    assert running.healthy


def test_namespaces_are_wired_with_no_default_route_and_no_ipv6(
    running: stack.StackStatus, stack_settings: Settings
) -> None:
    assert netns.problems(stack_settings) == []
    for ns in (stack_settings.sfu_netns, stack_settings.client_netns):
        routes = run(["ip", "-n", ns, "route", "show"])
        assert "default" not in routes
        assert run(["ip", "-n", ns, "-6", "addr", "show"]).strip() == ""


async def test_janus_answers_info_from_the_client_namespace_through_a_namespace_loop(
    running: stack.StackStatus, stack_settings: Settings
) -> None:
    async def info() -> dict[str, object]:
        async with (
            aiohttp.ClientSession(trust_env=False) as http,
            http.get(f"{stack_settings.janus_url}/info") as reply,
        ):
            body: dict[str, object] = await reply.json()
            return body

    with NamespaceLoop(stack_settings.client_netns) as loop:
        body = await loop.run(info())
    assert body["janus"] == "server_info"
    assert "janus.plugin.videoroom" in body["plugins"]  # type: ignore[operator]
    assert "janus.plugin.echotest" not in body["plugins"]  # type: ignore[operator]


def test_janus_is_not_reachable_from_the_root_namespace(
    running: stack.StackStatus, stack_settings: Settings
) -> None:
    from rtcsim.services.httpcheck import http_get

    assert not http_get(f"{stack_settings.janus_url}/info", timeout_s=1.0).ok


def test_janus_listens_only_on_its_namespace_loopback_and_veth_address(
    running: stack.StackStatus, stack_settings: Settings
) -> None:
    pid = janus.pid(stack_settings)
    assert pid is not None
    assert listening_addresses(pid) == {"127.0.0.1", stack_settings.sfu_address}


def test_nothing_the_stack_started_listens_in_the_root_namespace_beyond_loopback(
    running: stack.StackStatus, stack_settings: Settings
) -> None:
    root_ns = os.readlink("/proc/self/ns/net")
    janus_pid = janus.pid(stack_settings)
    checked = 0
    seen: set[str] = set()
    for pid in stack_pids(stack_settings):
        for proc in [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]:
            in_root = os.readlink(f"/proc/{proc.pid}/ns/net") == root_ns
            assert in_root != (proc.pid == janus_pid)
            if in_root:
                checked += 1
                for addr in listening_addresses(proc.pid):
                    seen.add(addr)
                    assert ipaddress.ip_address(addr).is_loopback, (proc.pid, addr)
    assert checked >= 1
    assert "127.0.0.1" in seen, "Elasticsearch listens on loopback, and was seen"


def test_everything_listening_in_the_sfu_namespace_is_on_its_loopback_or_veth_address(
    running: stack.StackStatus, stack_settings: Settings
) -> None:
    out = run(["ip", "netns", "exec", stack_settings.sfu_netns, "ss", "-Hlntu"])
    local = {line.split()[4].rsplit(":", 1)[0] for line in out.splitlines()}
    assert local <= {"127.0.0.1", stack_settings.sfu_address}, out
    if WITH_COLLECTOR:
        assert f"127.0.0.1:{stack_settings.collector_events_port}" in out


def test_a_second_up_reuses_everything_quickly(
    running: stack.StackStatus, stack_settings: Settings
) -> None:
    before = stack_pids(stack_settings)
    again = stack.up(stack_settings, with_collector=WITH_COLLECTOR)
    assert again.healthy
    assert stack_pids(stack_settings) == before
    assert sum(s.elapsed_s or 0.0 for s in again.services) < 5.0


def test_status_reports_every_service_up(
    running: stack.StackStatus, stack_settings: Settings
) -> None:
    status = stack.status(stack_settings)
    assert {s.name: s.state for s in status.services} == {
        "namespaces": stack.State.UP,
        "elasticsearch": stack.State.UP,
        "collector": stack.State.UP if WITH_COLLECTOR else stack.State.DOWN,
        "janus": stack.State.UP,
    }


def test_down_leaves_no_process_and_no_namespace(
    running: stack.StackStatus, stack_settings: Settings
) -> None:
    pids = stack_pids(stack_settings)
    assert pids
    stack.down(stack_settings)
    assert not [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"]
    assert not netns.exists(stack_settings)
    assert elasticsearch.probe_port(stack_settings) is elasticsearch.EsPort.FREE
    assert stack.down(stack_settings) == [], "a second down has nothing left to do"
