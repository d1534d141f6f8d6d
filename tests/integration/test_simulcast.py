"""Simulcast, key frames on request and congestion on the real Janus, the peers driven directly
(no scenario) so that Janus's Admin API can be asked what it receives while media flows."""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
import pytest

from simulator.driver.janus import videoroom
from simulator.driver.janus.http import JanusHandle, JanusSession
from simulator.driver.janus.server import JanusLink
from simulator.driver.protocol import RoomOptions
from simulator.netns_loop import NamespaceLoop
from simulator.participant import Participant
from simulator.peers.cheap import PacketTrack
from simulator.peers.clips import default_clips_dir
from simulator.peers.publishing import PublishOptions, prepare_clips
from simulator.peers.simulcast.publisher import SimulcastVideo
from simulator.settings import Settings

pytestmark = pytest.mark.integration
T = TypeVar("T")


@dataclass
class Stack:
    """Peers on the client namespace's loop; the Admin API from the media server's."""

    settings: Settings
    media: NamespaceLoop
    sfu: NamespaceLoop
    http: aiohttp.ClientSession
    admin_http: aiohttp.ClientSession
    control: JanusHandle
    room: str
    people: list[Participant] = field(default_factory=list)

    def on_media(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.media.run_sync(coro, 60)

    def open_room(self, bitrate_bps: int) -> None:
        options = RoomOptions(bitrate_bps=bitrate_bps)
        self.on_media(videoroom.create_room(self.control, self.room, options))

    def join(self, name: str) -> Participant:
        connection = f"{name}-{secrets.token_hex(4)}"
        link = JanusLink(self.http, self.settings.janus_url, connection, name)
        who = Participant(link, connection, name)
        self.people.append(who)
        self.on_media(who.join(self.room))
        return who

    def publish(self, who: Participant, options: PublishOptions) -> None:
        prepare_clips(options, default_clips_dir())  # as a run does before its clock starts
        self.on_media(who.publish(f"{who.connection_id}_CAMERA_TEST", options))

    def subscribe(self, who: Participant, to: Participant, substream: int | None = None) -> None:
        self.on_media(who.subscribe(to.connection_id, media="cheap", substream=substream))

    def admin(self, path: str, request: str) -> dict[str, Any]:
        """One Janus Admin API request (it listens on the media server namespace's loopback)."""
        url = f"http://127.0.0.1:{self.settings.janus_admin_port}/admin{path}"
        body = {
            "janus": request,
            "transaction": secrets.token_hex(6),
            "admin_secret": self.settings.janus_admin_secret,
        }

        async def post() -> dict[str, Any]:
            async with self.admin_http.post(url, json=body) as response:
                reply: dict[str, Any] = await response.json(content_type=None)
                return reply

        return self.sfu.run_sync(post(), 10)

    def published_video(self, who: Participant) -> dict[str, Any]:
        """Janus's own view of ``who``'s published video m-line (Admin API ``handle_info``)."""
        for session_id in self.admin("", "list_sessions").get("sessions", []):
            for handle_id in self.admin(f"/{session_id}", "list_handles").get("handles", []):
                info = self.admin(f"/{session_id}/{handle_id}", "handle_info").get("info", {})
                specific = info.get("plugin_specific", {})
                if specific.get("type") == "publisher" and specific.get("id") == who.connection_id:
                    media = info.get("webrtc", {}).get("media", {}).values()
                    return next(m for m in media if m.get("type") == "video")
        raise AssertionError(f"Janus has no publisher handle for {who.connection_id}")


@pytest.fixture
def stack(running_stack: Settings) -> Iterator[Stack]:
    settings = running_stack
    media = NamespaceLoop(settings.client_netns, name="simulcast-test-media")
    sfu = NamespaceLoop(settings.sfu_netns, name="simulcast-test-sfu")

    async def open_media() -> tuple[aiohttp.ClientSession, JanusHandle]:
        http = aiohttp.ClientSession()
        session = await JanusSession.create(http, settings.janus_url)
        return http, await session.attach(videoroom.PLUGIN, "rtcsim:simulcast-test")

    async def open_sfu() -> aiohttp.ClientSession:
        return aiohttp.ClientSession()

    http, control = media.run_sync(open_media(), 30)
    admin_http = sfu.run_sync(open_sfu(), 10)
    stack = Stack(
        settings, media, sfu, http, admin_http, control, f"simulcast-{secrets.token_hex(4)}"
    )
    try:
        yield stack
    finally:

        async def close() -> None:
            for who in stack.people:
                try:
                    await who.leave()
                except Exception:
                    await who.close_quietly(destroy_session=True)
            with contextlib.suppress(Exception):
                await videoroom.destroy_room(control, stack.room)
            await control.session.destroy()
            await http.close()

        media.run_sync(close(), 60)
        sfu.run_sync(admin_http.close(), 10)
        media.close()
        sfu.close()


def _simulcast_of(who: Participant) -> SimulcastVideo:
    assert who.publisher is not None
    video = who.publisher.video
    assert isinstance(video, SimulcastVideo)
    return video


def _current_layer(viewer: Participant, publisher: Participant) -> tuple[int | None, Any]:
    tracker = viewer.subscriptions[publisher.connection_id].layers
    period = tracker.current
    return (period.substream if period else None), tracker.size


@pytest.mark.parametrize("media", ["cheap", "live"])
def test_janus_receives_three_layers_by_rid_and_relays_each_viewer_the_one_it_asked_for(
    stack: Stack, media: str
) -> None:
    stack.open_room(3_000_000)
    camera, low, high = stack.join("camera"), stack.join("low"), stack.join("high")
    stack.publish(
        camera,
        PublishOptions(width=640, height=360, fps=15, media=media, simulcast=True),  # type: ignore[arg-type]
    )
    stack.subscribe(low, camera, substream=0)
    stack.subscribe(high, camera, substream=2)
    time.sleep(4)
    video = stack.published_video(camera)
    ssrcs = video["ssrc"]
    assert {"ssrc-peer", "ssrc-peer-sim-1", "ssrc-peer-sim-2"} <= set(ssrcs)
    assert video["rid-simulcast"]["rid"] == ["h", "m", "l"]
    assert video["rid-simulcast"]["rid-order"] == "hml"
    inbound = video["stats"]["in"]
    assert inbound["packets"] > 0
    assert inbound["video-simulcast-1"]["packets"] > 0
    assert inbound["video-simulcast-2"]["packets"] > 0
    video_sent = _simulcast_of(camera)
    sent = {s.layer.rid: s.stream.counters.packets for s in video_sent.states if s.stream}
    # Janus's per-layer counts are its own: layer 0 (``ssrc-peer``) is the lowest, rid "l".
    assert abs(inbound["packets"] - sent["l"]) <= max(30, 0.1 * sent["l"])
    assert abs(inbound["video-simulcast-2"]["packets"] - sent["h"]) <= max(30, 0.1 * sent["h"])
    assert _current_layer(low, camera) == (0, (160, 90))
    assert _current_layer(high, camera) == (2, (640, 360))


def test_a_viewer_joining_mid_loop_gets_its_first_frame_within_a_second_from_the_pli(
    stack: Stack,
) -> None:
    """The clip's only key frame is its first frame, every 4 s: a viewer that joins mid-loop
    sees video within a second of its connection coming up only because the publisher
    answered Janus's PLI (sent when the viewer's connection is up) on its next frame."""
    stack.open_room(2_000_000)
    plain, layered = stack.join("plain"), stack.join("layered")
    stack.publish(plain, PublishOptions(media="cheap"))
    stack.publish(layered, PublishOptions(width=640, height=360, media="cheap", simulcast=True))
    started = time.monotonic()
    waits: list[float] = []
    for index, offset_s in enumerate((1.3, 2.2, 3.1, 5.6)):  # all over the 4 s loop
        time.sleep(max(0.0, started + offset_s - time.monotonic()))
        viewer = stack.join(f"late-{index}")
        stack.subscribe(viewer, plain)
        stack.subscribe(viewer, layered, substream=index % 3)
        for source in (plain, layered):
            deadline = time.monotonic() + 3
            state = viewer.subscriptions[source.connection_id]
            while state.first_frame_s is None and time.monotonic() < deadline:
                time.sleep(0.02)
            assert state.first_frame_s is not None, f"no key frame from {source.display}"
            assert state.ice_connected_s is not None
            waits.append(state.first_frame_s - state.ice_connected_s)
    assert max(waits) < 1.0, waits
    assert plain.publisher is not None
    track = plain.publisher.video
    assert isinstance(track, PacketTrack)
    assert track.keyframes_answered >= 4
    assert track.keyframe_answer_max_frames == 0  # each answer was the very next frame
    for layer in _simulcast_of(layered).states:
        assert layer.source.keyframe_requests >= 4
        assert layer.source.keyframe_answer_max_frames == 0


def test_a_room_cap_below_the_full_layer_turns_it_off_and_janus_falls_back_for_its_viewer(
    stack: Stack,
) -> None:
    # 640x480 layers: 500 + 167 + 50 kbit/s; Janus's REMB of 400 kbit/s covers the lower two.
    stack.open_room(400_000)
    camera, viewer = stack.join("camera"), stack.join("viewer")
    stack.publish(camera, PublishOptions(media="cheap", simulcast=True))
    stack.subscribe(viewer, camera, substream=2)
    time.sleep(4)
    video = _simulcast_of(camera)
    assert video.budget.remb_bps == 400_000
    assert video.budget.active == 2
    top = video.states[0]
    assert top.layer.rid == "h"
    assert not top.active
    assert top.active_periods[-1][1] is not None
    sent_before = top.stream.counters.packets if top.stream else 0
    time.sleep(1)
    assert (top.stream.counters.packets if top.stream else 0) == sent_before
    # Janus relays the best layer still coming: the viewer asked for 2 and gets 1.
    assert _current_layer(viewer, camera) == (1, (320, 240))
