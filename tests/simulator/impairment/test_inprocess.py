"""The in-process impairer on a fake transport: real event loop, seeded randomness, no sockets."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

import pytest

from simulator.impairment import NONE, Impairment
from simulator.impairment.inprocess import InProcessImpairer

PACKET = bytes(1000)


class FakeTransport:
    """Stands for aiortc's RTCIceTransport: ``_send``/``_recv`` are what the impairer hooks."""

    def __init__(self) -> None:
        self.sent: list[tuple[float, bytes]] = []
        self.incoming: asyncio.Queue[bytes | Exception] = asyncio.Queue()
        # Instance attributes, as aiortc's are: the impairer replaces and restores them.
        self._send: Callable[[bytes], Awaitable[None]] = self.send
        self._recv: Callable[[], Awaitable[bytes]] = self.recv

    async def send(self, data: bytes) -> None:
        self.sent.append((asyncio.get_running_loop().time(), data))

    async def recv(self) -> bytes:
        item = await self.incoming.get()
        if isinstance(item, Exception):
            raise item
        return item


def impaired(seed: int = 7) -> tuple[InProcessImpairer, FakeTransport]:
    impairer = InProcessImpairer(random.Random(seed))
    transport = FakeTransport()
    impairer.attach_transport(transport)
    return impairer, transport


async def drain(transport: FakeTransport, quiet_s: float = 0.05) -> list[bytes]:
    """Everything ``_recv`` yields until it stays quiet for ``quiet_s``."""
    received = []
    while True:
        try:
            received.append(await asyncio.wait_for(transport._recv(), quiet_s))
        except TimeoutError:
            return received


async def test_ten_percent_loss_drops_about_ten_percent_of_five_thousand_packets() -> None:
    impairer, transport = impaired()
    impairer.set(up=Impairment(loss_pct=10))
    for _ in range(5000):
        await transport._send(PACKET)
    up = impairer.counters.up
    assert up.offered == 5000
    assert 420 <= up.dropped_loss <= 580
    assert len(transport.sent) == up.passed == 5000 - up.dropped_loss
    await impairer.close()


async def test_zero_loss_drops_nothing_and_full_loss_drops_everything() -> None:
    impairer, transport = impaired()
    impairer.set(up=Impairment(loss_pct=0))
    for _ in range(1000):
        await transport._send(PACKET)
    assert len(transport.sent) == 1000
    impairer.set(up=Impairment(loss_pct=100))
    for _ in range(1000):
        await transport._send(PACKET)
    assert len(transport.sent) == 1000
    assert impairer.counters.up.dropped_loss == 1000
    await impairer.close()


async def test_the_same_seed_drops_the_same_packets() -> None:
    runs = []
    for _ in range(2):
        impairer, transport = impaired(seed=42)
        impairer.set(up=Impairment(loss_pct=30))
        for i in range(500):
            await transport._send(i.to_bytes(2, "big"))
        runs.append([data for _, data in transport.sent])
        await impairer.close()
    assert runs[0] == runs[1]


async def test_delay_holds_each_packet_back_by_the_requested_time() -> None:
    impairer, transport = impaired()
    impairer.set(up=Impairment(delay_ms=30))
    loop = asyncio.get_running_loop()
    sent_at = {}
    for i in range(10):
        sent_at[i] = loop.time()
        await transport._send(bytes([i]))
        await asyncio.sleep(0.002)
    for _ in range(200):  # wait for delivery without trusting a busy machine's timing
        if len(transport.sent) == 10:
            break
        await asyncio.sleep(0.01)
    lags_ms = [(at - sent_at[data[0]]) * 1000 for at, data in transport.sent]
    assert len(lags_ms) == 10
    # Never early; lateness is the event loop's, not the impairer's (a loaded CI machine).
    assert all(lag >= 29.5 for lag in lags_ms), lags_ms
    assert impairer.counters.up.delayed == 10
    await impairer.close()


async def test_jitter_spreads_arrivals_and_may_reorder_packets() -> None:
    impairer, transport = impaired()
    impairer.set(up=Impairment(delay_ms=20, jitter_ms=15))
    for i in range(50):
        await transport._send(bytes([i]))
        await asyncio.sleep(0.001)
    for _ in range(200):
        if len(transport.sent) == 50:
            break
        await asyncio.sleep(0.01)
    order = [data[0] for _, data in transport.sent]
    assert sorted(order) == list(range(50))
    assert order != sorted(order)
    await impairer.close()


async def test_rate_cap_limits_throughput_and_tail_drops_what_the_buffer_cannot_hold() -> None:
    impairer, transport = impaired()
    # 800 kbit/s = 100 kB/s; offered: 1000 B every 2 ms = 500 kB/s for 0.3 s.
    impairer.set(up=Impairment(rate_kbps=800, queue_ms=100))
    loop = asyncio.get_running_loop()
    start = loop.time()
    for i in range(150):
        await asyncio.sleep(max(0.0, start + i * 0.002 - loop.time()))
        await transport._send(PACKET)
    await asyncio.sleep(0.15)
    window = [at for at, _ in transport.sent if start + 0.1 <= at < start + 0.3]
    rate_bytes_s = len(window) * len(PACKET) / 0.2
    assert 85_000 <= rate_bytes_s <= 115_000, rate_bytes_s
    up = impairer.counters.up
    assert up.dropped_queue > 50
    assert up.passed + up.dropped_queue == 150
    await impairer.close()


async def test_set_takes_effect_mid_run() -> None:
    impairer, transport = impaired()
    for _ in range(1000):
        await transport._send(PACKET)
    impairer.set(up=Impairment(loss_pct=50))
    for _ in range(1000):
        await transport._send(PACKET)
    impairer.set(up=NONE)
    for _ in range(1000):
        await transport._send(PACKET)
    assert 400 <= impairer.counters.up.dropped_loss <= 600
    assert len(transport.sent) == 3000 - impairer.counters.up.dropped_loss
    await impairer.close()


async def test_downlink_loss_drops_received_packets_before_the_peer_sees_them() -> None:
    impairer, transport = impaired()
    impairer.set(down=Impairment(loss_pct=20))
    for _ in range(1000):
        transport.incoming.put_nowait(PACKET)
    received = await drain(transport)
    down = impairer.counters.down
    assert down.offered == 1000
    assert len(received) == down.passed == 1000 - down.dropped_loss
    assert 150 <= down.dropped_loss <= 250
    await impairer.close()


async def test_downlink_delay_holds_received_packets_back() -> None:
    impairer, transport = impaired()
    impairer.set(down=Impairment(delay_ms=30))
    loop = asyncio.get_running_loop()
    reader = asyncio.ensure_future(transport._recv())
    await asyncio.sleep(0)
    start = loop.time()
    transport.incoming.put_nowait(b"x")
    await asyncio.sleep(0.015)
    assert not reader.done()  # held back: half the delay on, nothing has come through
    # Only the lower bound is the impairment's: how late after it the loop wakes is the
    # machine's (a busy CI box has taken more than 10 ms), so the upper bound is generous.
    assert await asyncio.wait_for(reader, 2.0) == b"x"
    assert loop.time() - start >= 0.0295
    await impairer.close()


async def test_a_closed_connection_reaches_the_peer_as_connection_error() -> None:
    impairer, transport = impaired()
    transport.incoming.put_nowait(b"last")
    transport.incoming.put_nowait(ConnectionError("closed"))
    assert await transport._recv() == b"last"
    with pytest.raises(ConnectionError):
        await transport._recv()
    await impairer.close()


async def test_silence_drops_everything_both_ways_including_packets_already_held_back() -> None:
    impairer, transport = impaired()
    impairer.set(up=Impairment(delay_ms=20))
    for _ in range(10):
        await transport._send(PACKET)
    impairer.silence()
    for _ in range(10):
        await transport._send(PACKET)
        transport.incoming.put_nowait(PACKET)
    await asyncio.sleep(0.04)
    assert transport.sent == []
    assert await drain(transport, 0.02) == []
    counters = impairer.counters
    assert counters.up.dropped_loss == 20
    assert counters.down.dropped_loss == 10
    await impairer.close()


class FakeStunProtocol:
    def __init__(self) -> None:
        self.stun_sent = 0

    def send_stun(self, message: object, addr: object) -> None:
        self.stun_sent += 1


class FakeConnection:
    def __init__(self) -> None:
        self._protocols = [FakeStunProtocol()]


async def test_silence_also_gags_ice_until_the_next_set() -> None:
    impairer, transport = impaired()
    connection = FakeConnection()
    transport._connection = connection  # type: ignore[attr-defined]
    protocol = connection._protocols[0]
    impairer.silence()
    protocol.send_stun(object(), ("198.18.0.1", 1))
    assert protocol.stun_sent == 0
    impairer.set()
    protocol.send_stun(object(), ("198.18.0.1", 1))
    assert protocol.stun_sent == 1
    await impairer.close()


async def test_close_gives_the_transport_its_own_methods_back_and_hands_over_a_waiting_recv() -> (
    None
):
    impairer, transport = impaired()
    impairer.set(up=Impairment(loss_pct=100), down=Impairment(loss_pct=100))
    reader = asyncio.ensure_future(transport._recv())
    await asyncio.sleep(0)
    await impairer.close()
    transport.incoming.put_nowait(b"after")
    assert await asyncio.wait_for(reader, 1) == b"after"
    await transport._send(PACKET)
    assert len(transport.sent) == 1
    assert transport._send == transport.send
    assert transport._recv == transport.recv
