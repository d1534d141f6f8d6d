"""The session model on realistic Janus sequences: lifecycle documents and their reasons."""

from __future__ import annotations

from collector.clock import FixedClock
from collector.session_model import LEAVING_GRACE_MS, SessionModel
from tests.collector.janus_sequences import ICE_FAILED_HANGUP_MS, T0_MS, Janus
from tests.collector.model_helpers import ROOM, RUN, bodies, feed, one, register


def two_party_call(model: SessionModel) -> Janus:
    """alice publishes, bob publishes and subscribes to alice, alice subscribes to bob."""
    register(model, ROOM, "alice", "bob")
    j = Janus()
    j.create_room(ROOM, 0)
    j.join("alice", ROOM, 100)
    j.publish("alice", ROOM, 110)
    j.join("bob", ROOM, 1_000)
    j.publish("bob", ROOM, 1_010)
    j.subscribe("bob", ROOM, "alice", 1_200)
    j.subscribe("alice", ROOM, "bob", 1_300)
    return j


def test_room_creation_is_session_created_with_run_id(model: SessionModel) -> None:
    j = two_party_call(model)
    docs = feed(model, j.events)
    created = one(docs, event="sessionCreated")
    assert created == {
        "elastic_type": "cdr",
        "event": "sessionCreated",
        "timestamp": T0_MS + 1,
        "sessionId": ROOM,
        "uniqueSessionId": f"{ROOM}_{T0_MS + 1}",
        "rtcsim_run_id": RUN,
    }


def test_joined_is_participant_joined_with_identity(model: SessionModel) -> None:
    j = two_party_call(model)
    docs = feed(model, j.events)
    joined = one(docs, event="participantJoined", connectionId="alice")
    assert joined["timestamp"] == T0_MS + 102
    assert joined["participantId"] == "alice"
    assert joined["location"] == "Mumbai, India"
    assert joined["platform"] == "Chrome 120.0 on Linux 64-bit"
    assert joined["user"] == "0000000000000000"
    assert joined["ip"] == "198.18.0.2"


def test_missing_identity_gives_unknown_defaults(model: SessionModel) -> None:
    j = Janus()
    j.create_room(ROOM, 0)
    j.join("ghost", ROOM, 10)
    joined = one(feed(model, j.events), event="participantJoined")
    assert joined["location"] == "unknown"
    assert joined["platform"] == "unknown"
    assert len(joined["user"]) == 16


def test_joined_for_unseen_room_creates_the_session_then(model: SessionModel) -> None:
    j = Janus()
    j.join("alice", "late-room", 50)
    docs = feed(model, j.events)
    assert [d.body()["event"] for d in docs] == ["sessionCreated", "participantJoined"]
    assert one(docs, event="sessionCreated")["timestamp"] == T0_MS + 52


def test_webrtcup_of_publisher_is_outbound_connection_created(model: SessionModel) -> None:
    j = two_party_call(model)
    docs = feed(model, j.events)
    created = one(
        docs, event="webrtcConnectionCreated", connectionId="alice", connection="OUTBOUND"
    )
    assert created["streamId"] == "alice_CAMERA_ABCDE"
    assert created["timestamp"] == T0_MS + 149
    assert created["videoDimensions"] == '{"width":640,"height":480}'
    assert created["videoFramerate"] == 30
    assert created["audioEnabled"] is True
    assert "receivingFrom" not in created


def test_subscriber_is_inbound_with_publishers_stream_and_options(model: SessionModel) -> None:
    j = two_party_call(model)
    docs = feed(model, j.events)
    created = one(docs, event="webrtcConnectionCreated", connectionId="bob", connection="INBOUND")
    assert created["receivingFrom"] == "alice"
    assert created["streamId"] == "alice_CAMERA_ABCDE"
    assert created["videoSource"] == "CAMERA"
    assert created["timestamp"] == T0_MS + 1236


def test_clean_leave_gives_unsubscribe_unpublish_disconnect(model: SessionModel) -> None:
    j = two_party_call(model)
    j.clean_leave("bob", ROOM, 10_000)
    docs = feed(model, j.events)
    bob_sub = one(docs, event="webrtcConnectionDestroyed", connectionId="bob", connection="INBOUND")
    assert bob_sub["reason"] == "unsubscribe"
    assert bob_sub["startTime"] == T0_MS + 1236
    assert bob_sub["duration"] == (10_000 - 1236) // 1000
    bob_pub = one(
        docs, event="webrtcConnectionDestroyed", connectionId="bob", connection="OUTBOUND"
    )
    assert bob_pub["reason"] == "unpublish"
    # alice's subscription to bob's stream ends with the publisher's reason (OpenVidu cascades)
    alice_sub = one(
        docs, event="webrtcConnectionDestroyed", connectionId="alice", connection="INBOUND"
    )
    assert alice_sub["reason"] == "unpublish"
    left = one(docs, event="participantLeft", connectionId="bob")
    assert left["reason"] == "disconnect"
    assert left["startTime"] == T0_MS + 1002
    assert bodies(docs, event="sessionDestroyed") == []


def test_last_participant_leaving_destroys_session_with_lastParticipantLeft(
    model: SessionModel,
) -> None:
    j = two_party_call(model)
    j.clean_leave("bob", ROOM, 10_000)
    j.clean_leave("alice", ROOM, 20_000)
    docs = feed(model, j.events)
    destroyed = one(docs, event="sessionDestroyed")
    assert destroyed["reason"] == "lastParticipantLeft"
    assert destroyed["timestamp"] == T0_MS + 20_010
    assert destroyed["startTime"] == T0_MS + 1
    assert destroyed["duration"] == 20


def test_room_destroyed_after_last_participant_left_emits_nothing_more(
    model: SessionModel,
) -> None:
    j = two_party_call(model)
    j.clean_leave("bob", ROOM, 10_000)
    j.clean_leave("alice", ROOM, 20_000)
    feed(model, j.events)
    later = Janus()
    later.destroy_room(ROOM, 30_000)
    assert feed(model, later.events) == []


def test_room_destroyed_closes_everyone_with_sessionClosedByServer(model: SessionModel) -> None:
    j = two_party_call(model)
    j.destroy_room(ROOM, 5_000)
    docs = feed(model, j.events)
    assert {d["reason"] for d in bodies(docs, event="participantLeft")} == {"sessionClosedByServer"}
    assert {d["reason"] for d in bodies(docs, event="webrtcConnectionDestroyed")} == {
        "sessionClosedByServer"
    }
    assert len(bodies(docs, event="webrtcConnectionDestroyed")) == 4
    assert one(docs, event="sessionDestroyed")["reason"] == "sessionClosedByServer"


def test_session_timeout_is_networkDisconnect_for_connections_and_participant(
    model: SessionModel,
) -> None:
    j = two_party_call(model)
    j.session_timeout("bob", 70_000)
    docs = feed(model, j.events)
    assert one(docs, event="participantLeft", connectionId="bob")["reason"] == "networkDisconnect"
    destroyed = bodies(docs, event="webrtcConnectionDestroyed")
    assert {(d["connectionId"], d["connection"], d["reason"]) for d in destroyed} == {
        ("bob", "INBOUND", "networkDisconnect"),
        ("bob", "OUTBOUND", "networkDisconnect"),
        ("alice", "INBOUND", "networkDisconnect"),
    }


def test_leaving_followed_by_the_session_timeout_is_networkDisconnect(
    model: SessionModel,
) -> None:
    j = two_party_call(model)
    j.vanish("bob", ROOM, 30_000)
    docs = feed(model, j.events)
    left = one(docs, event="participantLeft", connectionId="bob")
    assert left["reason"] == "networkDisconnect"
    assert left["timestamp"] == T0_MS + 30_000


def test_leaving_followed_by_a_session_destroy_is_a_clean_disconnect(model: SessionModel) -> None:
    j = two_party_call(model)
    j.leave("bob", ROOM, 30_000)
    docs = feed(model, j.events)
    assert one(docs, event="participantLeft", connectionId="bob")["reason"] == "disconnect"


def test_leaving_with_nothing_after_settles_as_disconnect_after_the_grace_period() -> None:
    clock = FixedClock(T0_MS)
    m = SessionModel(clock)
    j = two_party_call(m)
    j.leave_keeping_session("bob", ROOM, 30_000)
    docs = feed(m, j.events)
    assert bodies(docs, event="participantLeft") == []
    clock.advance(30_000 + LEAVING_GRACE_MS + 1)
    settled = m.settle_due()
    left = one(settled, event="participantLeft", connectionId="bob")
    assert (left["reason"], left["timestamp"]) == ("disconnect", T0_MS + 30_000)


def test_ice_failure_then_timeout_is_networkDisconnect(model: SessionModel) -> None:
    j = two_party_call(model)
    j.ice_failure("bob", 40_000)
    j.session_timeout("bob", 70_000)
    docs = feed(model, j.events)
    pub = one(docs, event="webrtcConnectionDestroyed", connectionId="bob", connection="OUTBOUND")
    assert pub["reason"] == "networkDisconnect"
    assert pub["timestamp"] == T0_MS + 40_000 + ICE_FAILED_HANGUP_MS  # Janus's hangup
    assert one(docs, event="participantLeft", connectionId="bob")["reason"] == "networkDisconnect"
    failed = one(docs, elastic_type="kms", endpoint="bob_CAMERA_ABCDE", state="FAILED")
    assert failed["type"] == "IceComponentStateChange"


def test_kicked_participant_is_forceDisconnectByServer(model: SessionModel) -> None:
    j = two_party_call(model)
    j.kick("bob", ROOM, 9_000)
    docs = feed(model, j.events)
    assert one(docs, event="participantLeft", connectionId="bob")["reason"] == (
        "forceDisconnectByServer"
    )
    pub = one(docs, event="webrtcConnectionDestroyed", connectionId="bob", connection="OUTBOUND")
    assert pub["reason"] == "forceDisconnectByServer"


def test_core_shutdown_is_mediaServerDisconnect_for_everything_open(model: SessionModel) -> None:
    j = two_party_call(model)
    j.shutdown(9_000)
    docs = feed(model, j.events)
    ends = [b for b in bodies(docs, elastic_type="cdr") if "reason" in b]
    assert len(ends) == 2 + 4 + 1
    assert {b["reason"] for b in ends} == {"mediaServerDisconnect"}
    assert one(docs, event="sessionDestroyed")["reason"] == "mediaServerDisconnect"
    assert len(bodies(docs, event="participantLeft")) == 2


def test_media_server_lost_without_event_closes_at_the_clock_time(model: SessionModel) -> None:
    j = two_party_call(model)
    feed(model, j.events)
    docs = model.media_server_lost(T0_MS + 50_000)
    assert one(docs, event="sessionDestroyed")["timestamp"] == T0_MS + 50_000
    assert model.open_sessions() == []


def test_transport_events_are_dropped(model: SessionModel) -> None:
    j = Janus()
    j.transport_request(0)
    assert feed(model, j.events) == []
    assert model.counters["ignored"] == 1


def test_replaying_the_same_events_gives_the_same_ids(clock: object) -> None:
    from collector.clock import FixedClock

    ids = []
    for _ in range(2):
        m = SessionModel(FixedClock())
        j = two_party_call(m)
        j.clean_leave("bob", ROOM, 10_000)
        j.clean_leave("alice", ROOM, 20_000)
        ids.append([d.doc_id() for d in feed(m, j.events)])
    assert ids[0] == ids[1]
    assert len(set(ids[0])) == len(ids[0])


def test_a_timed_out_subscriber_whose_handle_goes_before_its_leaving_is_networkDisconnect(
    model: SessionModel,
) -> None:
    """Seen on the real stack: Janus may drop a timed-out session's subscriber handle before
    the ``leaving`` and the ``timeout`` of that session."""
    j = two_party_call(model)
    sid, hid = j.janus_session["bob"], j.sub_handles[("bob", "alice")]
    j._emit("handle_detached", 30_000, session_id=sid, handle_id=hid)
    j.vanish("bob", ROOM, 30_001)
    docs = feed(model, j.events)
    sub = one(docs, event="webrtcConnectionDestroyed", connectionId="bob", connection="INBOUND")
    assert sub["reason"] == "networkDisconnect"


def test_an_unsubscribe_just_before_a_clean_leave_stays_an_unsubscribe(model: SessionModel) -> None:
    j = two_party_call(model)
    j.unsubscribe("bob", ROOM, "alice", 30_000)
    j.leave("bob", ROOM, 30_100)
    docs = feed(model, j.events)
    sub = one(docs, event="webrtcConnectionDestroyed", connectionId="bob", connection="INBOUND")
    assert (sub["reason"], sub["timestamp"]) == ("unsubscribe", T0_MS + 30_000)


def test_a_subscription_ends_within_its_leaving_participants_stay_when_the_publisher_settles_first(
    model: SessionModel,
) -> None:
    """Seen in CI (``leave who: all``): bob says ``leaving`` first, alice leaves 1 ms later and
    her Janus session is destroyed before bob's. Alice's leave settles first, and her
    publisher's cascade must not end bob's subscription to her after bob left: it ends with
    bob's own leave, at bob's time and with bob's reason."""
    j = two_party_call(model)
    bob_sid = j.janus_session["bob"]
    j._emit(
        "plugin_videoroom_leaving", 30_000, data={"event": "leaving", "room": ROOM, "id": "bob"}
    )
    j.leave("alice", ROOM, 30_001)
    j._emit("session_destroyed", 30_010, session_id=bob_sid)
    docs = feed(model, j.events)
    bob_left = one(docs, event="participantLeft", connectionId="bob")
    sub = one(docs, event="webrtcConnectionDestroyed", connectionId="bob", connection="INBOUND")
    assert bob_left["timestamp"] == T0_MS + 30_000
    assert (sub["timestamp"], sub["reason"]) == (T0_MS + 30_000, "disconnect")
    alice_sub = one(
        docs, event="webrtcConnectionDestroyed", connectionId="alice", connection="INBOUND"
    )
    assert (
        alice_sub["timestamp"]
        <= one(docs, event="participantLeft", connectionId="alice")["timestamp"]
    )
