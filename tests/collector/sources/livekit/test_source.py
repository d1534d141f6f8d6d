"""LiveKit's real webhooks (``tests/data/livekit``) as OpenVidu documents: room = session,
participant SID = connection, identity = user, a participant's tracks = one stream, and
LiveKit's disconnect reasons as OpenVidu's."""

from __future__ import annotations

import json

from collector.metadata import Identity, SessionInfo, StreamInfo
from tests.collector.model_helpers import bodies, one
from tests.collector.sources.livekit.recorded import Fed, Hook, hooks

ALICE, BOB = "PA_pcjWqVTz4zxd", "PA_XyHewBMUmsMs"


def sids(room: str) -> dict[str, str]:
    """identity -> participant SID, from the recorded joins."""
    return {
        h.json["participant"]["identity"]: h.json["participant"]["sid"]
        for h in hooks(room)
        if h.json["event"] == "participant_joined"
    }


def test_a_room_is_a_session_opened_at_its_creation_time_and_its_participants_join_it() -> None:
    docs = Fed().feed(hooks("session-a"))
    created = one(docs, event="sessionCreated")
    assert created["sessionId"] == "session-a"
    assert created["timestamp"] == 1796134746188
    alice = one(docs, event="participantJoined", connectionId=ALICE)
    assert alice["user"] == "alice"
    assert alice["timestamp"] == 1796134746189
    assert alice["clientData"] == "alice"  # the metadata's clientData
    assert one(docs, event="participantJoined", connectionId=BOB)["clientData"] == "Bob"


def test_a_participants_audio_and_video_tracks_are_one_stream_named_by_its_first_track() -> None:
    docs = Fed().feed(hooks("session-a"))
    created = one(docs, event="webrtcConnectionCreated")
    assert created["connectionId"] == ALICE
    assert created["connection"] == "OUTBOUND"
    assert created["streamId"] == "TR_VCd74tLDVvJdVk"
    assert created["timestamp"] == 1796134746536
    assert created["audioEnabled"] is True  # the audio track came 3 ms after the video
    assert created["videoEnabled"] is True
    assert "rtcsim_side" not in created  # the server's own webhook
    summary = one(docs, elastic_type="publisherSummary")
    assert summary["audioEnabled"] is True
    assert summary["videoEnabled"] is True
    assert summary["videoDimensions"] == '{"width":640,"height":480}'


def test_unpublishing_while_staying_in_the_room_ends_the_stream_with_unpublish() -> None:
    docs = Fed().feed(hooks("session-a"))
    destroyed = one(docs, event="webrtcConnectionDestroyed", connectionId=ALICE)
    assert destroyed["reason"] == "unpublish"
    assert destroyed["timestamp"] == 1796134750719  # the last track's end, not the leave


def test_a_participant_removed_through_room_service_is_force_disconnected_by_server() -> None:
    docs = Fed().feed(hooks("session-a"))
    assert one(docs, event="participantLeft", connectionId=BOB)["reason"] == (
        "forceDisconnectByServer"
    )


def test_a_client_that_leaves_disconnects_and_the_session_closes_after_the_last_one() -> None:
    docs = Fed().feed(hooks("session-a"))
    alice = one(docs, event="participantLeft", connectionId=ALICE)
    assert alice["reason"] == "disconnect"
    destroyed = one(docs, event="sessionDestroyed")
    assert destroyed["reason"] == "lastParticipantLeft"
    assert destroyed["timestamp"] == alice["timestamp"]
    summary = one(docs, elastic_type="sessionSummary")
    assert summary["reason"] == "lastParticipantLeft"
    assert len(bodies(docs, elastic_type="connectionSummary")) == 2


def test_a_deleted_room_closes_its_session_and_everyone_in_it_by_server() -> None:
    docs = Fed().feed(hooks("session-b"))
    assert one(docs, event="sessionDestroyed")["reason"] == "sessionClosedByServer"
    left = bodies(docs, event="participantLeft")
    assert sorted(d["user"] for d in left) == ["carol", "dave"]
    assert {d["reason"] for d in left} == {"sessionClosedByServer"}
    carol = sids("session-b")["carol"]
    stream = one(docs, event="webrtcConnectionDestroyed", connectionId=carol)
    assert stream["reason"] == "sessionClosedByServer"


def test_a_vanished_participant_is_a_network_disconnect_with_its_stream() -> None:
    docs = Fed().feed(hooks("session-c"))
    erin = sids("session-c")["erin"]
    left = one(docs, event="participantLeft", connectionId=erin)
    assert left["reason"] == "networkDisconnect"
    joined = one(docs, event="participantJoined", connectionId=erin)
    assert 20 <= left["duration"] <= 25  # LiveKit noticed after ~21 s
    assert joined["timestamp"] < left["timestamp"]
    assert one(docs, event="webrtcConnectionDestroyed")["reason"] == "networkDisconnect"
    assert one(docs, event="sessionDestroyed")["reason"] == "lastParticipantLeft"


def test_every_recorded_session_ends_with_its_summaries_and_nothing_unattributed() -> None:
    fed = Fed()
    docs = fed.feed(hooks())
    assert len(bodies(docs, elastic_type="sessionSummary")) == 3
    assert fed.model.open_sessions() == []
    assert not fed.model.counters


def test_a_webhook_sent_twice_changes_nothing() -> None:
    once = Fed().feed(hooks("session-a"))
    twice = Fed().feed([h for hook in hooks("session-a") for h in (hook, hook)])
    assert sorted(d.doc_id() for d in twice) == sorted({d.doc_id() for d in once})


def test_what_the_simulator_told_names_the_user_and_the_stream_by_livekit_identity() -> None:
    fed = Fed()
    fed.model.register_session(SessionInfo(sessionId="session-a", runId="run-lk"))
    fed.model.register_identity(
        Identity(connectionId="alice", user="00000000000000AA", platform="aiortc")
    )
    fed.model.register_stream(StreamInfo(streamId="alice_CAMERA_ABCDE", connectionId="alice"))
    docs = fed.feed(hooks("session-a"))
    joined = one(docs, event="participantJoined", connectionId=ALICE)
    assert joined["user"] == "00000000000000AA"
    assert joined["rtcsim_run_id"] == "run-lk"
    assert one(docs, event="webrtcConnectionCreated")["streamId"] == "alice_CAMERA_ABCDE"


def test_an_unpublish_nothing_follows_settles_as_unpublish_on_the_next_tick() -> None:
    fed = Fed()
    until_unpublish = [h for h in hooks("session-a") if h.received_ms <= 1796134750719]
    docs = fed.feed(until_unpublish)
    assert bodies(docs, event="webrtcConnectionDestroyed") == []
    docs = fed.settle_at(1796134750719 + 1_000)
    assert one(docs, event="webrtcConnectionDestroyed")["reason"] == "unpublish"


def test_a_stream_with_one_track_starts_after_the_grace_period_with_that_media_only() -> None:
    fed = Fed()
    video_only = [
        h
        for h in hooks("session-a")
        if h.received_ms <= 1796134746536 and h.json["event"] != "track_unpublished"
    ]
    fed.feed(video_only)
    assert bodies(fed.docs, event="webrtcConnectionCreated") == []
    created = one(fed.settle_at(1796134746536 + 1_000), event="webrtcConnectionCreated")
    assert created["timestamp"] == 1796134746536
    assert created["videoEnabled"] is True
    assert created["audioEnabled"] is False


def test_a_video_track_livekit_registered_three_layers_for_counts_them_in_the_summary() -> None:
    layers = [
        {"width": 320, "height": 180, "rid": "q"},
        {"quality": "MEDIUM", "width": 640, "height": 360, "rid": "h"},
        {"quality": "HIGH", "width": 1280, "height": 720, "rid": "f"},
    ]
    fed: list[Hook] = []
    for hook in hooks("session-a"):
        body = hook.json
        if body["event"] == "track_published" and body["track"].get("type") == "VIDEO":
            body["track"]["layers"] = layers  # as LiveKit's webhook lists a simulcast track's
        fed.append(Hook(hook.received_ms, hook.authorization, json.dumps(body)))
    summary = one(Fed().feed(fed), elastic_type="publisherSummary")
    assert summary["simulcastLayers"] == 3
    plain = one(Fed().feed(hooks("session-a")), elastic_type="publisherSummary")
    assert "simulcastLayers" not in plain
