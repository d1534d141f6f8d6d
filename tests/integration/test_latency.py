"""One-way latency measured for real: two aiortc peers with a known delay injected into the
receiver's own transport, then through Janus, where a 100 ms delay on one viewer's downlink
shows as about 100 ms more than its neighbour's."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator

import pytest

from simulator.impairment import Impairment
from simulator.impairment.inprocess import InProcessImpairer
from simulator.netns_loop import NamespaceLoop
from simulator.peers import cheap
from simulator.peers.clips import default_clips_dir
from simulator.peers.latency import (
    LatencyMeter,
    LatencySummary,
    SentFrames,
    note_sent_frames,
    summarize,
)
from simulator.peers.rtc import new_peer_connection
from simulator.settings import Settings
from tests.integration.test_scenario_library import outcome_of

pytestmark = pytest.mark.integration

CONNECT_TIMEOUT_S = 15.0


@pytest.fixture
def client_loop(running_stack: Settings) -> Iterator[NamespaceLoop]:
    """A loop in the stack's client namespace: both peers on its veth address."""
    loop = NamespaceLoop(running_stack.client_netns)
    try:
        yield loop
    finally:
        loop.close()


async def measured_call(delay_ms: float, seconds: float) -> LatencySummary:
    """A cheap publisher straight to a cheap receiver (no server), the receiver's downlink
    delayed by ``delay_ms``; the latency of what arrived in ``seconds``."""
    sender, receiver = new_peer_connection(), new_peer_connection()
    impairer = InProcessImpairer(random.Random(1))
    frames = SentFrames()
    meter = LatencyMeter(lambda: frames)
    track = await asyncio.to_thread(cheap.packet_video_track, default_clips_dir(), 320, 240, 30)
    try:
        sender.addTrack(track)
        cheap.prefer_clip_codecs(sender)
        note_sent_frames(sender.getTransceivers()[0].sender, frames)
        connected = asyncio.Event()

        def on_state() -> None:
            if {sender.connectionState, receiver.connectionState} == {"connected"}:
                connected.set()

        sender.on("connectionstatechange", on_state)
        receiver.on("connectionstatechange", on_state)
        await sender.setLocalDescription(await sender.createOffer())
        await receiver.setRemoteDescription(sender.localDescription)
        cheap.count_frames(receiver, lambda kind, n: None, on_frame_start=meter.on_frame_payload)
        await receiver.setLocalDescription(await receiver.createAnswer())
        impairer.attach(receiver)
        impairer.set(down=Impairment(delay_ms=delay_ms))
        await sender.setRemoteDescription(receiver.localDescription)
        await asyncio.wait_for(connected.wait(), CONNECT_TIMEOUT_S)
        await asyncio.sleep(1.0)  # the first frames (DTLS just done) are left out
        mark = meter.mark
        await asyncio.sleep(seconds)
        return summarize(meter.between(mark))
    finally:
        await sender.close()
        await receiver.close()
        await impairer.close()


def test_a_delay_injected_in_the_receivers_transport_is_the_latency_measured(
    client_loop: NamespaceLoop,
) -> None:
    plain = client_loop.submit(measured_call(0, 3)).result(60)
    delayed = client_loop.submit(measured_call(100, 3)).result(60)
    assert plain.frames >= 60
    assert delayed.frames >= 60
    assert plain.p50_ms is not None
    assert delayed.p50_ms is not None
    assert plain.p50_ms < 25
    assert 100 <= delayed.p50_ms <= 125  # never less than the delay; a busy loop adds a little


def test_a_100_ms_downlink_delay_through_janus_shows_as_100_ms_more(
    running_stack: Settings,
) -> None:
    outcome = outcome_of("latency", running_stack)
    assert outcome.passed, [c for c in outcome.checks if not c.ok]
    people = outcome.ledger.participants.items()
    latency = {name: p.subscriptions[0].latency for name, p in people if p.subscriptions}
    plain, delayed = latency["plain"], latency["delayed"]
    assert plain is not None
    assert delayed is not None
    assert plain.frames >= 250  # 12 s of 30 fps, every frame matched by its picture id
    assert plain.unmatched == 0
    assert plain.p50_ms is not None
    assert delayed.p50_ms is not None
    assert 80 <= delayed.p50_ms - plain.p50_ms <= 125
    client_video = [
        d
        for d in outcome.documents
        if d.get("elastic_type") == "webrtcStats"
        and d.get("rtcsim_side") == "client"
        and d.get("mediaType") == "video"
        and "framesReceived" in d  # the viewers' samples, not the publisher's
    ]
    assert len(client_video) == 2
    assert all(d["latencyP95Ms"] >= d["latencyP50Ms"] >= 0 for d in client_video)
    assert all(d["packetsLost"] == 0 and d["packetsReceived"] > 250 for d in client_video)
