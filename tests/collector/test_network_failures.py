"""How Janus's own media-level decisions end streams: a failed ICE is only a warning until Janus
hangs up (5 s later), and what Janus ends on that hangup ends for the network, the participant
itself only when Janus lets it go."""

from __future__ import annotations

from collector.session_model import LEAVING_GRACE_MS, SessionModel
from tests.collector.janus_sequences import ICE_FAILED_HANGUP_MS, T0_MS, Janus
from tests.collector.model_helpers import ROOM, feed, one, register


def call(model: SessionModel) -> Janus:
    register(model, ROOM, "alice", "bob")
    j = Janus()
    j.create_room(ROOM, 0)
    j.join("alice", ROOM, 100)
    j.publish("alice", ROOM, 110)
    j.join("bob", ROOM, 1_000)
    j.subscribe("bob", ROOM, "alice", 1_200)
    return j


def test_an_ice_failure_that_recovers_within_janus_grace_ends_nothing(model: SessionModel) -> None:
    j = call(model)
    j.ice_recovery("alice", 10_000)
    docs = feed(model, j.events)
    assert not [d for d in docs if d.body().get("event") == "webrtcConnectionDestroyed"]
    failed = one(docs, elastic_type="kms", state="FAILED", connectionId="alice")
    assert failed["type"] == "IceComponentStateChange"


def test_a_publisher_janus_unpublishes_after_its_ice_failed_ends_as_networkDisconnect(
    model: SessionModel,
) -> None:
    """The VideoRoom's ``unpublished`` comes before the event handler's ``hangup``: it must
    not read as the client's own unpublish."""
    j = call(model)
    j.ice_failure("alice", 10_000, room=ROOM)
    docs = feed(model, j.events)
    hung_up = T0_MS + 10_000 + ICE_FAILED_HANGUP_MS
    pub = one(docs, event="webrtcConnectionDestroyed", connectionId="alice", connection="OUTBOUND")
    assert (pub["reason"], pub["timestamp"]) == ("networkDisconnect", hung_up)
    sub = one(docs, event="webrtcConnectionDestroyed", connectionId="bob")
    assert (sub["reason"], sub["timestamp"]) == ("networkDisconnect", hung_up)


def test_a_broken_subscription_ends_alone_and_its_participant_leaves_as_it_chooses(
    model: SessionModel,
) -> None:
    j = call(model)
    j.subscription_ice_failure("bob", ROOM, "alice", 10_000)
    j.leave("bob", ROOM, 30_000)
    docs = feed(model, j.events)
    docs += model.settle_due()
    sub = one(docs, event="webrtcConnectionDestroyed", connectionId="bob")
    assert sub["reason"] == "networkDisconnect"
    assert sub["timestamp"] == T0_MS + 10_000 + ICE_FAILED_HANGUP_MS
    assert one(docs, event="participantLeft", connectionId="bob")["reason"] == "disconnect"


def test_a_vanished_participant_ends_when_its_session_times_out(model: SessionModel) -> None:
    j = call(model)
    j.ice_failure("bob", 40_000)  # bob publishes nothing: its control handle has no stream
    j.vanish("bob", ROOM, 62_000)
    docs = feed(model, j.events)
    left = one(docs, event="participantLeft", connectionId="bob")
    assert (left["reason"], left["timestamp"]) == ("networkDisconnect", T0_MS + 62_000)


def test_a_room_destroyed_within_the_grace_after_the_last_leave_keeps_that_leave(
    model: SessionModel,
) -> None:
    """A client that leaves the room but keeps its Janus session (janus.js's ``leave``), then
    the room destroyed a second later: the leave was a ``disconnect``, then, and the session
    ended as its last participant left."""
    j = call(model)
    j.clean_leave("bob", ROOM, 10_000, publishing=False)
    j.leave_keeping_session("alice", ROOM, 20_000)
    j.destroy_room(ROOM, 20_000 + LEAVING_GRACE_MS - 500)
    docs = feed(model, j.events)
    left = one(docs, event="participantLeft", connectionId="alice")
    assert (left["reason"], left["timestamp"]) == ("disconnect", T0_MS + 20_000)
    pub = one(docs, event="webrtcConnectionDestroyed", connectionId="alice")
    assert pub["reason"] == "disconnect"
    destroyed = one(docs, event="sessionDestroyed")
    assert (destroyed["reason"], destroyed["timestamp"]) == ("lastParticipantLeft", T0_MS + 20_000)


def test_a_room_destroyed_with_someone_still_in_it_is_closed_by_the_server(
    model: SessionModel,
) -> None:
    j = call(model)
    j.leave_keeping_session("bob", ROOM, 20_000)
    j.destroy_room(ROOM, 20_500)
    docs = feed(model, j.events)
    assert one(docs, event="participantLeft", connectionId="bob")["reason"] == "disconnect"
    alice = one(docs, event="participantLeft", connectionId="alice")
    assert alice["reason"] == "sessionClosedByServer"
    assert one(docs, event="sessionDestroyed")["reason"] == "sessionClosedByServer"
