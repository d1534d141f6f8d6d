"""Server-side webrtcStats from Janus media stats: units, directions, cadence."""

from __future__ import annotations

from collector.metadata import ClientStatsSample
from collector.session_model import SessionModel
from tests.collector.janus_sequences import Janus
from tests.collector.model_helpers import ROOM, feed, register


def setup_call(model: SessionModel) -> Janus:
    register(model, ROOM, "alice", "bob")
    j = Janus()
    j.create_room(ROOM, 0)
    j.join("alice", ROOM, 100)
    j.publish("alice", ROOM, 110)
    j.join("bob", ROOM, 1_000)
    j.subscribe("bob", ROOM, "alice", 1_200)
    j.publisher_stats("alice", 2_000)
    j.subscriber_stats("bob", "alice", 2_000)
    return j


def test_publisher_endpoint_gets_inbound_stats_in_kurento_units(model: SessionModel) -> None:
    feed(model, setup_call(model).events)
    docs = [d.body() for d in model.webrtc_stats_due()]
    video = next(
        d for d in docs if d["endpoint"] == "alice_CAMERA_ABCDE" and d["mediaType"] == "video"
    )
    assert video["packetsReceived"] == 53
    assert video["bytesReceived"] == 48972
    assert video["packetsLost"] == 4
    assert video["nackCount"] == 4
    assert video["fractionLost"] == 4 / 57
    assert video["remb"] == 1_000_000
    assert video["jitter"] == 0.0
    assert video["rtcsim_side"] == "server"
    assert "bytesSent" not in video


def test_subscriber_endpoint_gets_outbound_stats_with_rtt_in_seconds(model: SessionModel) -> None:
    feed(model, setup_call(model).events)
    docs = [d.body() for d in model.webrtc_stats_due()]
    audio = next(d for d in docs if d["connectionId"] == "bob" and d["mediaType"] == "audio")
    assert audio["endpoint"] == "bob_alice_CAMERA_ABCDE"
    assert audio["packetsSent"] == 433
    assert audio["roundTripTime"] == 0.001
    assert audio["targetBitrate"] == 36645
    assert "bytesReceived" not in audio


def test_no_new_sample_means_no_new_document(model: SessionModel) -> None:
    feed(model, setup_call(model).events)
    assert len(model.webrtc_stats_due()) == 4
    assert model.webrtc_stats_due() == []


def test_closing_an_endpoint_writes_its_last_stats(model: SessionModel) -> None:
    j = setup_call(model)
    feed(model, j.events)
    model.webrtc_stats_due()
    j.events.clear()
    j.publisher_stats("alice", 3_000, scale=2)
    j.clean_leave("alice", ROOM, 4_000)
    docs = [d.body() for d in feed(model, j.events) if d.elastic_type == "webrtcStats"]
    assert {d["mediaType"] for d in docs} == {"audio", "video"}
    video = next(d for d in docs if d["mediaType"] == "video")
    assert video["packetsReceived"] == 106
    assert video["fractionLost"] == 4 / 57


def test_a_subscriber_that_sends_no_remb_has_no_target_bitrate(model: SessionModel) -> None:
    j = setup_call(model)
    for event in j.events:
        event["event"].pop("remb-bitrate", None)  # Chrome: transport-wide CC, no REMB
    feed(model, j.events)
    docs = [d.body() for d in model.webrtc_stats_due() if d.connectionId == "bob"]
    assert docs
    assert all("targetBitrate" not in d for d in docs)


def test_simulcast_layers_are_video_documents_of_their_own(model: SessionModel) -> None:
    """Janus names a simulcast publisher's layers video, video-sim1, video-sim2 (one stats event
    each, same time); none of them may land on the audio document."""
    j = setup_call(model)
    stats = [e for e in j.events if (e["type"], e.get("subtype")) == (32, 3)]
    video = next(e for e in stats if e["event"]["media"] == "video")
    for layer in (1, 2):
        event = {**video, "event": {**video["event"], "media": f"video-sim{layer}"}}
        event["event"]["packets-received"] = 100 * layer
        j.events.append(event)
    feed(model, j.events)
    docs = model.webrtc_stats_due()
    alice = [d.body() for d in docs if d.connectionId == "alice"]
    assert sorted((d["mediaType"], d.get("layer")) for d in alice) == [
        ("audio", None),
        ("video", 0),
        ("video", 1),
        ("video", 2),
    ]
    assert len({d.doc_id() for d in docs}) == len(docs)
    assert next(d for d in alice if d.get("layer") == 2)["packetsReceived"] == 200


def _client_video(model: SessionModel, at_ms: int, substream: int, since_ms: int) -> None:
    model.client_stats(
        ClientStatsSample.model_validate(
            {
                "connectionId": "bob",
                "sessionId": ROOM,
                "endpoint": "bob_alice_CAMERA_ABCDE",
                "mediaType": "video",
                "timestamp": at_ms,
                "framesReceived": 30,
                "rtcsim_substream": substream,
                "rtcsim_substream_since": since_ms,
            }
        )
    )


def test_a_subscribers_layer_switch_shows_in_its_server_stats_and_its_summary(
    model: SessionModel,
) -> None:
    j = setup_call(model)
    feed(model, j.events)
    model.webrtc_stats_due()
    _client_video(model, 2_500, 2, 1_300)
    _client_video(model, 2_600, 2, 1_300)  # the same layer again: no new period
    j.events.clear()
    j.subscriber_stats("bob", "alice", 3_000)
    feed(model, j.events)
    before = [d.body() for d in model.webrtc_stats_due() if d.connectionId == "bob"]
    video = next(d for d in before if d["mediaType"] == "video")
    audio = next(d for d in before if d["mediaType"] == "audio")
    assert (video["rtcsim_substream"], video["rtcsim_substream_since"]) == (2, 1_300)
    assert "rtcsim_substream" not in audio
    _client_video(model, 3_500, 1, 3_400)
    j.events.clear()
    j.subscriber_stats("bob", "alice", 4_000)
    j.clean_leave("bob", ROOM, 5_000, publishing=False)
    j.clean_leave("alice", ROOM, 5_100)
    j.destroy_room(ROOM, 5_200)
    docs = feed(model, j.events) + model.settle_due()
    after = next(
        d.body()
        for d in docs
        if d.elastic_type == "webrtcStats" and d.body()["mediaType"] == "video"
    )
    assert (after["rtcsim_substream"], after["rtcsim_substream_since"]) == (1, 3_400)
    summary = next(d.body() for d in docs if d.elastic_type == "subscriberSummary")
    assert summary["rtcsim_substream"] == 1
    assert summary["rtcsim_substreams"] == [
        {"substream": 2, "since": 1_300},
        {"substream": 1, "since": 3_400},
    ]


def test_a_single_layer_subscription_has_no_substream(model: SessionModel) -> None:
    feed(model, setup_call(model).events)
    docs = [d.body() for d in model.webrtc_stats_due() if d.connectionId == "bob"]
    assert all("rtcsim_substream" not in d for d in docs)
