"""Janus webrtc/media events become Kurento-named kms documents, attributed to endpoints."""

from __future__ import annotations

from collector.session_model import SessionModel
from tests.collector.janus_sequences import T0_MS, Janus
from tests.collector.model_helpers import ROOM, bodies, feed, one, register


def call(model: SessionModel) -> list[dict[str, object]]:
    register(model, ROOM, "alice", "bob")
    j = Janus()
    j.create_room(ROOM, 0)
    j.join("alice", ROOM, 100)
    j.publish("alice", ROOM, 110)
    j.join("bob", ROOM, 1_000)
    j.subscribe("bob", ROOM, "alice", 1_200)
    j.subscriber_stats("bob", "alice", 2_000)
    return [d.body() for d in feed(model, j.events) if d.elastic_type == "kms"]


def test_ice_events_before_webrtcup_are_attributed_to_the_publisher_endpoint(
    model: SessionModel,
) -> None:
    kms = call(model)
    states = [d["state"] for d in kms if d["endpoint"] == "alice_CAMERA_ABCDE" and "state" in d]
    assert states[:5] == ["GATHERING", "CONNECTING", "CONNECTED", "READY", "FLOWING"]
    gathering = next(d for d in kms if d.get("state") == "GATHERING")
    assert gathering["msSinceEndpointCreation"] == 1  # endpoint created at the remote offer
    assert gathering["streamId"] == 1
    assert gathering["componentId"] == 1
    assert gathering["session"] == gathering["sessionId"] == ROOM
    assert gathering["connection"] == gathering["connectionId"] == "alice"


def test_gathering_done_and_candidate_pair_give_dashboard_timings(model: SessionModel) -> None:
    kms = call(model)
    done = one(kms_docs(kms), type="IceGatheringDone", endpoint="alice_CAMERA_ABCDE")
    assert done["msSinceEndpointCreation"] == 3
    pair = one(kms_docs(kms), type="NewCandidatePairSelected", endpoint="alice_CAMERA_ABCDE")
    assert pair["msSinceEndpointCreation"] == 24
    assert pair["candidatePair"]["streamId"] == "1"
    assert pair["candidatePair"]["localCandidate"].startswith("candidate:")
    assert " 198.18.0.1 20338 typ host" in pair["candidatePair"]["localCandidate"]


def test_subscriber_endpoint_is_named_subscriber_connection_then_stream(
    model: SessionModel,
) -> None:
    kms = call(model)
    sub = [d for d in kms if d["connectionId"] == "bob"]
    assert {d["endpoint"] for d in sub} == {"bob_alice_CAMERA_ABCDE"}
    assert sub[0]["type"] == "IceComponentStateChange"
    flow = [d for d in sub if d["type"] == "MediaFlowOutStateChange"]
    assert {(d["mediaType"], d["state"], d["padName"]) for d in flow} == {
        ("AUDIO", "FLOWING", "default"),
        ("VIDEO", "FLOWING", "default"),
    }


def test_webrtcup_is_media_and_connection_state_connected(model: SessionModel) -> None:
    kms = call(model)
    up = bodies(kms_docs(kms), endpoint="alice_CAMERA_ABCDE", newState="CONNECTED")
    assert {d["type"] for d in up} == {"MediaStateChanged", "ConnectionStateChanged"}
    assert all(d["oldState"] == "DISCONNECTED" for d in up)
    assert all(d["timestamp"] == T0_MS + 149 for d in up)


def test_media_receiving_is_media_flow_in_on_the_publisher(model: SessionModel) -> None:
    kms = call(model)
    flow = bodies(kms_docs(kms), type="MediaFlowInStateChange")
    assert [(d["mediaType"], d["state"]) for d in flow] == [
        ("AUDIO", "FLOWING"),
        ("VIDEO", "FLOWING"),
    ]


class _Body:
    def __init__(self, body: dict[str, object]) -> None:
        self._body = body

    def body(self) -> dict[str, object]:
        return self._body


def kms_docs(kms: list[dict[str, object]]) -> list[_Body]:
    return [_Body(d) for d in kms]


def test_the_selected_remote_candidate_is_the_one_of_the_type_janus_selected_without_crlf(
    model: SessionModel,
) -> None:
    """A browser trickles: Janus may learn the address as peer-reflexive first, then get the
    trickled host candidate for it (with the SDP line's CRLF), then select the pair as host."""
    register(model, ROOM, "alice")
    j = Janus()
    j.create_room(ROOM, 0)
    j.join("alice", ROOM, 100)
    j.publish("alice", ROOM, 110)
    ids = {"session_id": j.janus_session["alice"], "handle_id": j.control_handle["alice"]}
    prflx = "remote1 1 udp 1853824767 198.18.0.2 50323 typ prflx raddr 198.18.0.2 rport 50323\r\n"
    host = "1412041461 1 udp 2122260223 198.18.0.2 50323 typ host generation 0 network-id 1\r\n"
    for text in (prflx, host):
        j._emit("webrtc_remote-candidate", 500, **ids, event={"remote-candidate": text})
    pair = {"address": "198.18.0.2", "port": 50323, "type": "host", "transport": "udp"}
    local = {"address": "198.18.0.1", "port": 20000, "type": "host", "transport": "udp"}
    j._emit(
        "webrtc_selected-pair",
        501,
        **ids,
        event={
            "selected-pair": "198.18.0.1:20000 [host,udp] <-> 198.18.0.2:50323 [host,udp]",
            "candidates": {"local": local, "remote": pair},
        },
    )
    kms = [d.body() for d in feed(model, j.events) if d.elastic_type == "kms"]
    last = [d for d in kms if d["type"] == "NewCandidatePairSelected"][-1]
    assert last["candidatePair"]["remoteCandidate"] == f"candidate:{host.strip()}"
