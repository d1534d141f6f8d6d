"""Viewers that never join a room as participants, only attach subscriber handles (the usual
janus.js viewer): participants all the same, one per Janus session, from Janus's events alone."""

from __future__ import annotations

from collector.session_model import SessionModel
from tests.collector.janus_sequences import T0_MS, Janus
from tests.collector.model_helpers import ROOM, bodies, feed, one, register


def room_with_a_publisher(model: SessionModel) -> Janus:
    register(model, ROOM, "alice")
    j = Janus()
    j.create_room(ROOM, 0)
    j.join("alice", ROOM, 100)
    j.publish("alice", ROOM, 110)
    return j


def watch(j: Janus, at_ms: float) -> str:
    """A viewer's Janus session subscribing to alice; its connection id."""
    sid = j.viewer_session("viewer", at_ms)
    j.subscribe("viewer", ROOM, "alice", at_ms + 5, opaque="videoroom-viewer")
    return f"con_{sid}"


def test_a_viewer_is_a_participant_with_an_inbound_stream(model: SessionModel) -> None:
    j = room_with_a_publisher(model)
    viewer = watch(j, 1_000)
    docs = feed(model, j.events)
    joined = one(docs, event="participantJoined", connectionId=viewer)
    assert joined["timestamp"] == T0_MS + 1_005 + 1  # when it subscribed
    created = one(docs, event="webrtcConnectionCreated", connectionId=viewer)
    assert (created["connection"], created["receivingFrom"]) == ("INBOUND", "alice")
    assert model.counters["unattributed_subscription"] == 0


def test_a_viewer_that_ends_its_session_leaves_with_its_stream_as_a_disconnect(
    model: SessionModel,
) -> None:
    j = room_with_a_publisher(model)
    viewer = watch(j, 1_000)
    j.destroy_session("viewer", 9_000)
    docs = feed(model, j.events) + model.settle_due()
    left = one(docs, event="participantLeft", connectionId=viewer)
    assert (left["reason"], left["timestamp"]) == ("disconnect", T0_MS + 9_000)
    assert one(docs, event="webrtcConnectionDestroyed", connectionId=viewer)["reason"] == (
        "disconnect"
    )


def test_a_viewer_whose_session_times_out_is_a_network_disconnect(model: SessionModel) -> None:
    j = room_with_a_publisher(model)
    viewer = watch(j, 1_000)
    j.session_timeout("viewer", 70_000)
    docs = feed(model, j.events) + model.settle_due()
    assert one(docs, event="participantLeft", connectionId=viewer)["reason"] == (
        "networkDisconnect"
    )
    assert one(docs, event="webrtcConnectionDestroyed", connectionId=viewer)["reason"] == (
        "networkDisconnect"
    )


def test_viewers_are_counted_in_the_session_summary(model: SessionModel) -> None:
    j = room_with_a_publisher(model)
    viewer = watch(j, 1_000)
    j.destroy_session("viewer", 9_000)
    j.clean_leave("alice", ROOM, 10_000)
    docs = feed(model, j.events) + model.settle_due()
    [summary] = bodies(docs, elastic_type="sessionSummary")
    assert summary["users"]["numberOfElements"] == 2
    connection = one(docs, elastic_type="connectionSummary", connectionId=viewer)
    assert connection["subscribers"]["numberOfElements"] == 1
