"""The in-process impairer on two real aiortc peers talking over a veth in a namespace."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from simulator.impairment import NONE, Impairment
from simulator.impairment.inprocess import InProcessImpairer
from simulator.netns_loop import NamespaceLoop
from simulator.peers.rtc import new_peer_connection
from simulator.peers.tracks import ToneAudioTrack
from tests.simulator.impairment.conftest import needs_root

pytestmark = [pytest.mark.integration, needs_root]

CONNECT_TIMEOUT_S = 10.0


@pytest.fixture
def ns_loop(one_netns: str) -> Iterator[NamespaceLoop]:
    loop = NamespaceLoop(one_netns)
    try:
        yield loop
    finally:
        loop.close()


@dataclass
class Call:
    """A publisher peer sending a tone to a receiver peer, the publisher's uplink impaired."""

    sender: Any
    receiver: Any
    impairer: InProcessImpairer
    consumers: list[asyncio.Task[None]] = field(default_factory=list)

    async def audio_inbound(self) -> tuple[int, int]:
        """(packetsReceived, packetsLost) of the receiver's audio inbound-rtp."""
        for report in (await self.receiver.getStats()).values():
            if report.type == "inbound-rtp" and report.kind == "audio":
                return int(report.packetsReceived), int(report.packetsLost)
        return 0, 0

    async def close(self) -> None:
        await self.sender.close()
        await self.receiver.close()
        await self.impairer.close()
        for task in self.consumers:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def connected_call(seed: int = 1) -> Call:
    sender, receiver = new_peer_connection(), new_peer_connection()
    call = Call(sender, receiver, InProcessImpairer(random.Random(seed)))

    @receiver.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        call.consumers.append(asyncio.ensure_future(consume(track)))

    connected = asyncio.Event()

    def on_state() -> None:
        if {sender.connectionState, receiver.connectionState} == {"connected"}:
            connected.set()

    sender.on("connectionstatechange", on_state)
    receiver.on("connectionstatechange", on_state)
    sender.addTrack(ToneAudioTrack())
    await sender.setLocalDescription(await sender.createOffer())
    call.impairer.attach(sender)
    await receiver.setRemoteDescription(sender.localDescription)
    await receiver.setLocalDescription(await receiver.createAnswer())
    await sender.setRemoteDescription(receiver.localDescription)
    await asyncio.wait_for(connected.wait(), CONNECT_TIMEOUT_S)
    return call


async def consume(track: MediaStreamTrack) -> None:
    with contextlib.suppress(MediaStreamError):
        while True:
            await track.recv()


async def lost_share(loss_pct: float, seconds: float) -> tuple[float, int]:
    """The share of audio packets the receiver counted lost while the sender's uplink had
    ``loss_pct``, and how many packets that was measured on."""
    call = await connected_call()
    try:
        await asyncio.sleep(0.5)
        received0, lost0 = await call.audio_inbound()
        call.impairer.set(up=Impairment(loss_pct=loss_pct))
        await asyncio.sleep(seconds)
        call.impairer.set(up=NONE)
        await asyncio.sleep(0.2)  # a packet after the last lost one, so the loss is counted
        received1, lost1 = await call.audio_inbound()
        received, lost = received1 - received0, lost1 - lost0
        return lost / (received + lost), received + lost
    finally:
        await call.close()


def test_twenty_percent_uplink_loss_shows_as_about_twenty_percent_audio_packets_lost(
    ns_loop: NamespaceLoop,
) -> None:
    share, packets = ns_loop.run_sync(lost_share(20, 4.0), timeout=30)
    assert packets >= 180
    assert 0.13 <= share <= 0.27, share


def test_no_loss_shows_no_audio_packets_lost(ns_loop: NamespaceLoop) -> None:
    share, packets = ns_loop.run_sync(lost_share(0, 2.0), timeout=30)
    assert packets >= 90
    assert share == 0


async def receiver_state_after_sender_closes(silenced: bool) -> str:
    call = await connected_call()
    try:
        if silenced:
            call.impairer.silence()
        await call.sender.close()
        await asyncio.sleep(1.0)
        return str(call.receiver.connectionState)
    finally:
        await call.close()


def test_a_silenced_peer_vanishes_without_a_goodbye(ns_loop: NamespaceLoop) -> None:
    # Control: a clean close sends DTLS close_notify and the far end closes at once.
    assert ns_loop.run_sync(receiver_state_after_sender_closes(False), timeout=30) == "closed"
    # Silenced first: nothing gets out, so the far end still believes in the call.
    assert ns_loop.run_sync(receiver_state_after_sender_closes(True), timeout=30) == "connected"
