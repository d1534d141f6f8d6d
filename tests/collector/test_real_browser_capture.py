"""A room as the real Janus 1.1.2 reported it with a real browser in it: headless Chromium 156
running Meetecho's janus.js 1.1.2 (Debian's), captured on the project's stack by
``tests/integration/test_browser_clients.py``, next to an aiortc publisher and subscriber.

What the browser did (``tests/data/browser/timeline.json``, its own clock): ``simulcast`` published
three layers, unpublished, left; ``plain`` published one layer and left; ``viewer`` joined as a
participant, subscribed to the aiortc publisher and to ``simulcast``, unsubscribed from the first
and left last, keeping its Janus session, and the room was destroyed a second later; ``watcher``
never joined: it only attached subscriber handles (to the aiortc publisher and to ``plain``), then
ended its Janus session. Nobody told the collector who the browsers are.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from collector.clock import FixedClock
from collector.events.janus import parse_event
from collector.metadata import SessionInfo
from collector.session_model import SessionModel
from collector.sources.janus.source import JanusEventSource

DATA = Path(__file__).resolve().parents[1] / "data" / "browser"
CAPTURE = DATA / "janus_events.jsonl"
TIMELINE = json.loads((DATA / "timeline.json").read_text())
ROOM = TIMELINE["room"]
ROLES: dict[str, dict[str, Any]] = TIMELINE["roles"]
CLIENT_ADDRESS = "198.18.22.2"
Doc = dict[str, Any]


def connection_of(role: str) -> str:
    record = ROLES[role]
    return str(record["feed"]) if record.get("feed") else f"con_{record['janusSessionId']}"


@cache
def _documents() -> tuple[Doc, ...]:
    events = [json.loads(line) for line in CAPTURE.read_text().splitlines()]
    model = SessionModel(FixedClock(events[-1]["timestamp"] // 1000 + 60_000))
    janus = JanusEventSource(model)
    model.register_session(SessionInfo(sessionId=ROOM, runId="browser-capture"))
    docs = []
    for raw in events:
        docs += janus.apply(parse_event(raw))
    docs += model.webrtc_stats_due() + model.settle_due()
    return tuple(d.body() for d in docs)


def docs(**match: Any) -> list[Doc]:
    return [d for d in _documents() if all(d.get(k) == v for k, v in match.items())]


def one(**match: Any) -> Doc:
    found = docs(**match)
    assert len(found) == 1, (match, len(found))
    return found[0]


def stream_of(role: str) -> str:
    return str(one(elastic_type="publisherSummary", connectionId=connection_of(role))["streamId"])


def test_every_event_of_the_capture_parses() -> None:
    for line in CAPTURE.read_text().splitlines():
        parse_event(json.loads(line))  # a simulcast feed's streams carry an object, for one


def test_a_viewer_with_only_subscriber_handles_is_a_participant_with_its_streams() -> None:
    watcher = connection_of("watcher")
    assert watcher == f"con_{ROLES['watcher']['janusSessionId']}"
    one(elastic_type="cdr", event="participantJoined", connectionId=watcher)
    left = one(elastic_type="cdr", event="participantLeft", connectionId=watcher)
    assert left["reason"] == "disconnect"
    created = docs(elastic_type="cdr", event="webrtcConnectionCreated", connectionId=watcher)
    assert {d["connection"] for d in created} == {"INBOUND"}
    assert {d["streamId"] for d in created} == {
        stream_of("plain"),
        one(elastic_type="publisherSummary", user=docs(clientData="aio-pub")[0]["user"])[
            "streamId"
        ],
    }
    assert docs(elastic_type="kms", connectionId=watcher)
    assert docs(elastic_type="webrtcStats", connectionId=watcher, rtcsim_side="server")
    summary = one(elastic_type="connectionSummary", connectionId=watcher)
    assert summary["subscribers"]["numberOfElements"] == 2
    assert one(elastic_type="sessionSummary")["users"]["numberOfElements"] == 4 + 2


def test_a_viewer_letting_go_of_its_subscriptions_one_by_one_is_one_leave() -> None:
    watcher = connection_of("watcher")
    ends = docs(elastic_type="subscriberSummary", connectionId=watcher)
    assert {d["reason"] for d in ends} == {"disconnect"}
    left = one(elastic_type="cdr", event="participantLeft", connectionId=watcher)
    assert abs(left["timestamp"] - ROLES["watcher"]["left"]) < 1000


def test_simulcast_layers_are_each_a_document_of_their_own_and_audio_stays_audio() -> None:
    stream = stream_of("simulcast")
    stats = docs(elastic_type="webrtcStats", endpoint=stream, rtcsim_side="server")
    video = [d for d in stats if d["mediaType"] == "video"]
    audio = [d for d in stats if d["mediaType"] == "audio"]
    assert {d.get("layer") for d in video} == {0, 1, 2}
    assert all("layer" not in d for d in audio)
    browser_audio = next(o for o in ROLES["simulcast"]["stats"]["outbound"] if o["kind"] == "audio")
    last_audio = max(audio, key=lambda d: d["timestamp"])
    assert abs(last_audio["packetsReceived"] - browser_audio["packetsSent"]) <= 60  # ~1 s
    by_layer = {
        layer: max((d for d in video if d.get("layer") == layer), key=lambda d: d["timestamp"])
        for layer in (0, 1, 2)
    }
    # Substream 0 is the lowest quality: the fewest bytes.
    assert (
        by_layer[0]["bytesReceived"] < by_layer[1]["bytesReceived"] < by_layer[2]["bytesReceived"]
    )
    summary = one(elastic_type="publisherSummary", streamId=stream)
    assert summary["simulcastLayers"] == 3
    assert "simulcastLayers" not in one(
        elastic_type="publisherSummary", streamId=stream_of("plain")
    )


def test_a_chrome_subscriber_sending_no_remb_gets_no_target_bitrate() -> None:
    for role in ("viewer", "watcher"):
        stats = docs(elastic_type="webrtcStats", connectionId=connection_of(role))
        assert stats
        assert all("targetBitrate" not in d for d in stats)


def test_what_nobody_announced_is_not_made_up_for_a_browsers_stream() -> None:
    summary = one(elastic_type="publisherSummary", streamId=stream_of("plain"))
    assert "videoDimensions" not in summary  # Janus's events carry no resolution
    assert "videoFramerate" not in summary  # nor a frame rate
    assert (summary["audioEnabled"], summary["videoEnabled"]) == (True, True)


def test_the_selected_remote_candidate_is_the_trickled_host_one_without_its_crlf() -> None:
    for role in ROLES:
        pairs = docs(
            elastic_type="kms", type="NewCandidatePairSelected", connectionId=connection_of(role)
        )
        assert pairs, role
        for pair in pairs:
            remote = pair["candidatePair"]["remoteCandidate"]
            assert "\r" not in remote
            assert "\n" not in remote
        # Janus first paired a peer-reflexive candidate, then the trickled host one for the
        # same address: the last selection says host, as Janus's selected pair does.
        last = max(pairs, key=lambda d: d["timestamp"])
        assert " typ host" in last["candidatePair"]["remoteCandidate"]


def test_a_browsers_identity_is_what_janus_knew_its_display_name_and_address() -> None:
    for role in ("simulcast", "plain", "viewer"):
        joined = one(
            elastic_type="cdr", event="participantJoined", connectionId=connection_of(role)
        )
        assert joined["clientData"] == ROLES[role]["display"]
    for role in ROLES:
        summary = one(elastic_type="connectionSummary", connectionId=connection_of(role))
        assert summary["ip"] == CLIENT_ADDRESS  # the address ICE connected to
        assert (summary["platform"], summary["location"]) == ("unknown", "unknown")


def test_a_leave_followed_within_the_grace_by_the_rooms_destroy_is_a_disconnect() -> None:
    viewer = connection_of("viewer")
    left = one(elastic_type="cdr", event="participantLeft", connectionId=viewer)
    assert left["reason"] == "disconnect"
    assert abs(left["timestamp"] - ROLES["viewer"]["left"]) < 1000
    destroyed = one(elastic_type="cdr", event="sessionDestroyed")
    assert destroyed["reason"] == "lastParticipantLeft"
    assert destroyed["timestamp"] == left["timestamp"]


def test_the_browsers_streams_end_as_the_browser_ended_them() -> None:
    reasons = {
        (d["connectionId"], d["streamId"]): d["reason"]
        for d in docs(elastic_type="subscriberSummary")
    }
    viewer = connection_of("viewer")
    assert reasons[(viewer, stream_of("simulcast"))] == "unpublish"  # its publisher's reason
    assert one(elastic_type="publisherSummary", streamId=stream_of("simulcast"))["reason"] == (
        "unpublish"
    )
    assert one(elastic_type="publisherSummary", streamId=stream_of("plain"))["reason"] == (
        "disconnect"
    )
    aio = [key for key in reasons if key[0] == viewer and key[1] != stream_of("simulcast")]
    assert [reasons[key] for key in aio] == ["unsubscribe"]
