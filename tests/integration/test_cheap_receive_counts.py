"""Counting from RTP headers is exact: proven on the real Janus against a decoding subscriber.

One cheap publisher (the benchmarks' 640x480@30 VP8 clip at ~1 Mbit/s, and Opus). Subscriber
``decoding`` is plain aiortc, decrypting, depacketizing and decoding every frame, with the
header counter of ``simulator.peers.cheap_receive`` observing the very same datagrams from its
socket (``observe=True``): packets and payload bytes must match what aiortc decrypted exactly,
and frames what aiortc decoded within two. Subscriber ``cheap`` is the production path (no
SRTP unprotect for media): it gets the frame rate, and its RTCP receiver reports reach Janus
(the Admin API's ``out-link-quality`` for the handle is computed from them).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from simulator.driver.janus import videoroom
from simulator.driver.janus.http import JanusHandle, JanusSession
from simulator.netns_loop import NamespaceLoop
from simulator.peers import cheap
from simulator.peers.cheap_receive import Counting
from simulator.peers.rtc import new_peer_connection
from simulator.settings import Settings

pytestmark = pytest.mark.integration
WINDOW_S = 6.0


@dataclass
class Decoding:
    """The reference: what aiortc itself decrypted (per media SSRC) and decoded."""

    pc: RTCPeerConnection
    handle: JanusHandle
    counting: list[Counting]
    decrypted: dict[int, list[int]] = field(default_factory=dict)  # ssrc: [packets, bytes]
    decoded: dict[str, int] = field(default_factory=lambda: {"audio": 0, "video": 0})
    consumers: list[asyncio.Task[None]] = field(default_factory=list)

    def header(self) -> dict[str, int]:
        counters = [c for counting in self.counting for c in counting.counters.values()]
        return {
            "packets": sum(c.packets_received for c in counters),
            "bytes": sum(c.payload_bytes for c in counters),
            "general_path": sum(c.decrypted for c in counters),
            "video": sum(c.frames for c in counters if c.video),
            "audio": sum(c.frames for c in counters if not c.video),
        }

    def reference(self) -> dict[str, int]:
        return {
            "packets": sum(p for p, _ in self.decrypted.values()),
            "bytes": sum(b for _, b in self.decrypted.values()),
            "video": self.decoded["video"],
            "audio": self.decoded["audio"],
        }


def _tap_decrypted(decoding: Decoding) -> None:
    """Sum what reaches each receiver's own packet handler, decrypted (media SSRCs only)."""
    for transceiver in decoding.pc.getTransceivers():
        receiver: Any = transceiver.receiver
        original = receiver._handle_rtp_packet
        rtx = receiver._RTCRtpReceiver__rtx_ssrc

        async def handle(
            packet: Any, arrival_time_ms: int, original: Any = original, rtx: Any = rtx
        ) -> None:
            if packet.ssrc not in rtx:
                seen = decoding.decrypted.setdefault(packet.ssrc, [0, 0])
                seen[0] += 1
                seen[1] += len(packet.payload)
            await original(packet, arrival_time_ms)

        receiver._handle_rtp_packet = handle


async def _consume(track: MediaStreamTrack, decoded: dict[str, int]) -> None:
    with contextlib.suppress(MediaStreamError):
        while True:
            await track.recv()
            decoded[track.kind] += 1


@pytest.fixture(scope="module")
def client_loop(running_stack: Settings) -> Iterator[NamespaceLoop]:
    loop = NamespaceLoop(running_stack.client_netns, name="test-cheap-receive")
    yield loop
    loop.close()


@contextlib.asynccontextmanager
async def _room(settings: Settings) -> AsyncIterator[tuple[JanusSession, str, str, Any]]:
    """A room with one cheap publisher; yields a session for subscribers, the room, the feed
    and the publisher's peer connection (closing it stops the media)."""
    async with aiohttp.ClientSession() as http:
        session = await JanusSession.create(http, settings.janus_url)
        admin = await session.attach(videoroom.PLUGIN, "rtcsim:test-admin")
        room, feed = f"test-count-{secrets.token_hex(3)}", "publisher"
        await videoroom.create_room(admin, room, videoroom.RoomOptions())
        control = await videoroom.join_as_participant(session, room, feed, feed)
        pc = new_peer_connection()
        clips = settings.cache_dir / "clips"
        pc.addTrack(await asyncio.to_thread(cheap.packet_audio_track, clips))
        video = await asyncio.to_thread(cheap.packet_video_track, clips, 640, 480, 30, 1_000_000)
        pc.addTrack(video)
        cheap.prefer_clip_codecs(pc)
        # As a production publisher does: a key frame when Janus relays a new subscriber's PLI
        # (the clip has one key frame, at its start; without this the decoder waits a loop).
        cheap.answer_feedback(pc)
        try:
            await pc.setLocalDescription(await pc.createOffer())
            reply = await videoroom.publish(
                control, pc.localDescription.sdp, audio=True, video=True
            )
            assert reply.jsep is not None
            await pc.setRemoteDescription(RTCSessionDescription(str(reply.jsep["sdp"]), "answer"))
            await control.wait_for("webrtcup", timeout_s=30)
            yield session, room, feed, pc
        finally:
            await pc.close()
            with contextlib.suppress(Exception):
                await videoroom.destroy_room(admin, room)
            await session.destroy()


async def _subscribe(
    session: JanusSession, room: str, feed: str, name: str, *, observe: bool
) -> Decoding:
    handle, offer = await videoroom.subscribe(session, room, name, feed)
    pc = new_peer_connection()
    decoding = Decoding(pc, handle, [])

    @pc.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        if observe:
            decoding.consumers.append(asyncio.create_task(_consume(track, decoding.decoded)))

    await pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
    decoding.counting = cheap.count_frames(pc, lambda kind, n: None, observe=observe)
    if observe:
        _tap_decrypted(decoding)
    await pc.setLocalDescription(await pc.createAnswer())
    assert cheap.drain_sockets(pc) == 1
    await videoroom.start(handle, pc.localDescription.sdp)
    await handle.wait_for("webrtcup", timeout_s=30)
    return decoding


async def _quiet_snapshot(decoding: Decoding) -> tuple[dict[str, int], dict[str, int]]:
    """Both counts at one moment: the reference runs on aiortc's queue, a few turns behind."""
    for _ in range(20):
        await asyncio.sleep(0)
    return decoding.header(), decoding.reference()


async def _admin_rtcp(settings: Settings, handle: JanusHandle) -> dict[str, Any]:
    url = f"http://127.0.0.1:{settings.janus_admin_port}/admin/{handle.session.session_id}"
    body = {"janus": "handle_info", "transaction": secrets.token_hex(6)}
    body["admin_secret"] = settings.janus_admin_secret
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{url}/{handle.handle_id}", json=body) as response,
    ):
        info: dict[str, Any] = (await response.json())["info"]
    return {m["type"]: m["rtcp"]["main"] for m in info["webrtc"]["media"].values() if "rtcp" in m}


def test_header_counts_match_a_decoding_subscriber_of_the_same_stream(
    running_stack: Settings, client_loop: NamespaceLoop
) -> None:
    async def scenario() -> list[tuple[dict[str, int], dict[str, int]]]:
        async with _room(running_stack) as (session, room, feed, publisher):
            decoding = await _subscribe(session, room, feed, "decoding", observe=True)
            try:
                await asyncio.sleep(2.0)  # the decoder has had a key frame
                first = await _quiet_snapshot(decoding)
                await asyncio.sleep(WINDOW_S)
                second = await _quiet_snapshot(decoding)
                await publisher.close()  # no more media: aiortc's queue drains
                await asyncio.sleep(1.5)
                last = await _quiet_snapshot(decoding)
            finally:
                await decoding.pc.close()
                for task in decoding.consumers:
                    task.cancel()
        return [first, second, last]

    (h0, r0), (h1, r1), (total, reference_total) = client_loop.run_sync(scenario(), 120)
    window = {k: h1[k] - h0[k] for k in h1}
    expected = {k: r1[k] - r0[k] for k in r1}
    assert window["packets"] > 140 * WINDOW_S * 0.9  # ~1 Mbit/s video + Opus
    assert total["packets"] == reference_total["packets"]  # every packet, from the first
    assert total["bytes"] == reference_total["bytes"]
    assert abs(window["video"] - expected["video"]) <= 2
    assert abs(window["audio"] - expected["audio"]) <= 2
    assert window["video"] >= 29 * WINDOW_S
    assert window["general_path"] < 0.05 * window["packets"]  # the header path did the work


def test_a_cheap_subscriber_gets_the_frame_rate_and_janus_gets_its_receiver_reports(
    running_stack: Settings, client_loop: NamespaceLoop
) -> None:
    sfu_loop = NamespaceLoop(running_stack.sfu_netns, name="test-janus-admin")

    async def scenario() -> tuple[dict[str, int], dict[str, Any], float]:
        async with _room(running_stack) as (session, room, feed, _publisher):
            sub = await _subscribe(session, room, feed, "cheap", observe=False)
            try:
                await asyncio.sleep(1.0)
                before, began = sub.header(), time.monotonic()
                await asyncio.sleep(WINDOW_S)
                after = sub.header()
                elapsed = time.monotonic() - began
                rtcp = asyncio.run_coroutine_threadsafe(
                    _admin_rtcp(running_stack, sub.handle), sfu_loop.loop
                )
                stats = await asyncio.wrap_future(rtcp)
            finally:
                await sub.pc.close()
        window = {k: after[k] - before[k] for k in after}
        return window, stats, elapsed

    try:
        window, stats, elapsed = client_loop.run_sync(scenario(), 120)
    finally:
        sfu_loop.close()
    assert window["video"] / elapsed >= 29
    assert window["audio"] / elapsed >= 48
    assert window["general_path"] < 0.05 * window["packets"]
    for kind in ("audio", "video"):
        assert stats[kind]["out-link-quality"] == 100, stats  # computed from our reports
        assert stats[kind]["lost-by-remote"] == 0, stats
