"""The kernel impairer on real nftables and tc, between two namespaces of the test's own."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from collector.netns import entered_netns
from simulator.impairment import NONE, Impairment
from simulator.impairment.kernel import ImpairmentUnsupported, KernelImpairer, capabilities
from simulator.settings import Settings
from tests.simulator.impairment.conftest import needs_root

pytestmark = [pytest.mark.integration, needs_root]

DATAGRAM = bytes(1000)


def udp_socket(netns: str, address: str) -> socket.socket:
    with entered_netns(netns):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind((address, 0))
    sock.setblocking(False)
    return sock


def port_of(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


def drain(sock: socket.socket, arrivals: list[float]) -> None:
    while True:
        try:
            sock.recv(65536)
        except BlockingIOError:
            return
        arrivals.append(time.monotonic())


def send(tx: socket.socket, rx: socket.socket, count: int, interval_s: float = 0.0) -> list[float]:
    """Send ``count`` datagrams from ``tx`` to ``rx``; the arrival times of those that came."""
    arrivals: list[float] = []
    start = time.monotonic()
    for i in range(count):
        if interval_s:
            time.sleep(max(0.0, start + i * interval_s - time.monotonic()))
        tx.sendto(DATAGRAM, rx.getsockname())
        if interval_s or i % 50 == 49:  # paced: drain each time, so arrival times are true
            drain(rx, arrivals)
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        drain(rx, arrivals)
        time.sleep(0.01)
    return arrivals


@pytest.fixture
def sockets(netns_pair: Settings) -> Iterator[tuple[socket.socket, socket.socket]]:
    """(client socket, SFU socket), one in each namespace."""
    client = udp_socket(netns_pair.client_netns, netns_pair.client_address)
    sfu = udp_socket(netns_pair.sfu_netns, netns_pair.sfu_address)
    yield client, sfu
    client.close()
    sfu.close()


def test_this_kernel_has_tbf_htb_and_nftables_but_no_netem() -> None:
    caps = capabilities(refresh=True)
    assert (caps.netem, caps.tbf, caps.htb, caps.nftables) == (False, True, True, True), caps


def test_thirty_percent_uplink_loss_drops_about_thirty_percent_and_clear_restores_all(
    netns_pair: Settings, sockets: tuple[socket.socket, socket.socket]
) -> None:
    client, sfu = sockets
    impairer = KernelImpairer(netns_pair)
    try:
        assert len(send(client, sfu, 2000)) == 2000
        impairer.apply([port_of(client)], Impairment(loss_pct=30), NONE)
        received = len(send(client, sfu, 2000))
        assert 1300 <= received <= 1500, received
        assert impairer.loss_rule_counters(port_of(client)) == {"up": 2000 - received}
        impairer.clear([port_of(client)])
        assert len(send(client, sfu, 2000)) == 2000
    finally:
        impairer.clear_all()


def test_thirty_percent_downlink_loss_drops_about_thirty_percent_of_what_the_peer_receives(
    netns_pair: Settings, sockets: tuple[socket.socket, socket.socket]
) -> None:
    client, sfu = sockets
    impairer = KernelImpairer(netns_pair)
    try:
        impairer.apply([port_of(client)], NONE, Impairment(loss_pct=30))
        received = len(send(sfu, client, 2000))
        assert 1300 <= received <= 1500, received
        assert len(send(client, sfu, 500)) == 500  # the other direction is untouched
        impairer.apply([port_of(client)], NONE, Impairment(loss_pct=0))
        assert len(send(sfu, client, 2000)) == 2000
    finally:
        impairer.clear_all()


def test_a_rate_cap_holds_one_peers_flow_to_the_requested_rate(
    netns_pair: Settings, sockets: tuple[socket.socket, socket.socket]
) -> None:
    client, sfu = sockets
    impairer = KernelImpairer(netns_pair)
    try:
        impairer.apply([port_of(client)], Impairment(rate_kbps=800), NONE)
        # 1000 B every 4 ms = 2 Mbit/s offered for 1 s, 2.5 times the cap.
        arrivals = send(client, sfu, 250, interval_s=0.004)
        # Steady state only: skip htb's initial burst. htb counts whole frames (+42 B each).
        steady = [t for t in arrivals if t >= arrivals[0] + 0.2]
        rate_kbps = (len(steady) - 1) * len(DATAGRAM) * 8 / (steady[-1] - steady[0]) / 1000
        assert 720 <= rate_kbps <= 880, rate_kbps
    finally:
        impairer.clear_all()


def test_delay_is_refused_here_because_the_kernel_has_no_netem(
    netns_pair: Settings, sockets: tuple[socket.socket, socket.socket]
) -> None:
    client, _ = sockets
    impairer = KernelImpairer(netns_pair)
    with pytest.raises(ImpairmentUnsupported, match="netem"):
        impairer.apply([port_of(client)], Impairment(delay_ms=50), NONE)


def test_clear_all_removes_our_table_and_qdiscs(
    netns_pair: Settings, sockets: tuple[socket.socket, socket.socket]
) -> None:
    client, sfu = sockets
    impairer = KernelImpairer(netns_pair)
    port = port_of(client)
    impairer.apply([port], Impairment(loss_pct=50, rate_kbps=500), Impairment(loss_pct=50))
    impairer.clear_all()
    assert len(send(client, sfu, 500)) == 500
    assert len(send(sfu, client, 500)) == 500
    assert impairer.loss_rule_counters(port) == {}
