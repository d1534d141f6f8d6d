"""The Janus driver's requests, as the VideoRoom documents them (Janus docs, "VideoRoom
plugin"), held against a handle that records what it is sent; and what the driver offers."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from rtcsim.library import LIBRARY
from simulator.driver.capabilities import Capability
from simulator.driver.janus import videoroom
from simulator.driver.janus.http import JanusHandle, JsonObject, PluginReply
from simulator.driver.janus.server import JanusDriver, JanusLink, JanusServer, _relayed, _talking
from simulator.driver.protocol import Driver, Layer, RoomOptions, SubscriberOffer, Talking
from simulator.player.standard import standard_repertoire
from simulator.scenario.capacity import CapacityScenario
from simulator.scenario.load import LoadScenario
from simulator.scenario.loader import load_any_scenario


class SentHandle:
    """Stands for a ``JanusHandle``: keeps each message body and answers with ``data``."""

    def __init__(self, data: JsonObject | None = None) -> None:
        self.sent: list[JsonObject] = []
        self.data = data or {}

    async def message(self, body: JsonObject, jsep: JsonObject | None = None) -> PluginReply:
        self.sent.append(body)
        return PluginReply(self.data)


def as_handle(fake: SentHandle) -> JanusHandle:
    return cast(JanusHandle, fake)


def server_with(handle: SentHandle) -> JanusServer:
    return JanusServer(
        cast(Any, None), "http://198.18.0.1:8088/janus", cast(Any, None), as_handle(handle)
    )


def test_the_feeds_offered_are_the_room_s_publishers_only() -> None:
    listed = {"participants": [{"id": "pub1", "publisher": True}, {"id": "viewer"}]}
    handle = SentHandle(listed)
    assert asyncio.run(server_with(handle).publishers("room-1")) == ["pub1"]
    assert handle.sent == [{"request": "listparticipants", "room": "room-1"}]


def test_a_kick_names_the_room_and_the_connection() -> None:
    handle = SentHandle()
    asyncio.run(server_with(handle).kick("room-1", "abcdefghijklmnop"))
    assert handle.sent == [{"request": "kick", "room": "room-1", "id": "abcdefghijklmnop"}]


def test_a_mute_stops_relaying_the_track_s_streams() -> None:
    link = JanusLink(cast(Any, None), "http://x/janus", "conn", "alice")
    control = SentHandle()
    link.control = as_handle(control)
    asyncio.run(link.mute("video", True, ["1"]))
    asyncio.run(link.mute("video", False, ["1"]))
    assert control.sent == [
        {"request": "configure", "streams": [{"mid": "1", "send": False}]},
        {"request": "configure", "streams": [{"mid": "1", "send": True}]},
    ]


def test_a_layer_choice_configures_the_video_stream_of_the_feed_s_handle() -> None:
    link = JanusLink(cast(Any, None), "http://x/janus", "conn", "alice")
    feed = SentHandle()
    link.feeds["pub1"] = as_handle(feed)
    link.video_mids["pub1"] = "1"
    asyncio.run(link.choose_layer("pub1", Layer(substream=2, temporal=1)))
    asyncio.run(link.choose_layer("pub1", Layer(substream=0)))
    assert feed.sent == [
        {"request": "configure", "streams": [{"mid": "1", "substream": 2, "temporal": 1}]},
        {"request": "configure", "streams": [{"mid": "1", "substream": 0}]},
    ]


def test_the_room_s_talking_notices_reach_the_participant_typed() -> None:
    heard: list[Talking] = []
    event = {
        "janus": "event",
        "plugindata": {
            "data": {"videoroom": "talking", "id": "pub1", "audio-level-dBov-avg": 21.5}
        },
    }
    _talking(event, heard.append)
    _talking({"janus": "event", "plugindata": {"data": {"videoroom": "event"}}}, heard.append)
    assert heard == [Talking(feed="pub1", talking=True, level_dbov=21.5)]


def test_the_layer_janus_relays_reaches_the_subscriber_as_substream_and_temporal() -> None:
    relayed: list[tuple[int | None, int | None]] = []

    def on_layer(substream: int | None, temporal: int | None) -> None:
        relayed.append((substream, temporal))

    def event(**data: int) -> JsonObject:
        return {"janus": "event", "plugindata": {"data": {"videoroom": "event", **data}}}

    _relayed(event(substream=2), on_layer)
    _relayed(event(temporal=1), on_layer)
    _relayed({"janus": "webrtcup"}, on_layer)
    assert relayed == [(2, None), (None, 1)]


class OfferingSession:
    """Stands for a ``JanusSession`` whose every new handle answers a join with an offer."""

    def __init__(self) -> None:
        self.attached: list[tuple[str, str | None]] = []
        self.handles: list[SentHandle] = []

    async def attach(self, plugin: str, opaque_id: str | None = None) -> JanusHandle:
        self.attached.append((plugin, opaque_id))
        handle = SentHandle()

        async def message(body: JsonObject, jsep: JsonObject | None = None) -> PluginReply:
            handle.sent.append(body)
            return PluginReply({"videoroom": "attached"}, {"type": "offer", "sdp": "v=0 offer"})

        handle.message = message  # type: ignore[method-assign]
        self.handles.append(handle)
        return as_handle(handle)


def test_each_subscription_on_janus_is_a_handle_and_a_peer_of_its_own() -> None:
    link = JanusLink(cast(Any, None), "http://x/janus", "conn", "alice")
    session = OfferingSession()
    link.session, link.room = cast(Any, session), "room-1"
    first = asyncio.run(link.subscribe("pub1"))
    second = asyncio.run(link.subscribe("pub2"))
    assert first == SubscriberOffer(feed="pub1", peer="pub1", sdp="v=0 offer")
    assert second.peer == "pub2"
    assert session.attached == [(videoroom.PLUGIN, "rtcsim:conn")] * 2
    assert session.handles[0].sent == [
        {"request": "join", "ptype": "subscriber", "room": "room-1", "streams": [{"feed": "pub1"}]}
    ]


def test_janus_is_a_driver_that_offers_every_capability() -> None:
    driver: Driver = JanusDriver("http://198.18.0.1:8088/janus")
    assert driver.name == "janus"
    assert driver.capabilities == frozenset(Capability)


def test_every_library_scenario_is_playable_on_janus() -> None:
    steps = standard_repertoire().steps
    driver = JanusDriver("http://198.18.0.1:8088/janus")
    checked = 0
    for path in sorted(LIBRARY.glob("*.*")):
        if path.suffix not in (".yaml", ".py"):
            continue
        scenario = load_any_scenario(path)
        if isinstance(scenario, LoadScenario | CapacityScenario):
            continue  # no timeline: a load or capacity search runs fixed steps of its own
        assert steps.refusals(scenario, driver.capabilities) == [], path.name
        checked += 1
    assert checked >= 10


def test_room_options_reach_the_videoroom_create_request() -> None:
    handle = SentHandle()
    created = asyncio.run(
        videoroom.create_room(as_handle(handle), "room-1", RoomOptions(publishers=3))
    )
    assert created is True
    assert handle.sent[0]["request"] == "create"
    assert handle.sent[0]["publishers"] == 3
