"""The session model forgets what no document needs any more (found by ``rtcsim soak``).

Peers that come and go must not leave state behind: a session that never empties keeps one
small connection record per visit (its ``sessionSummary`` is made of them), not the endpoints
with their media samples; and a closed session is forgotten once late statuses are unlikely.
"""

from __future__ import annotations

import pytest

from collector.clock import FixedClock
from collector.metadata import RecordingInput
from collector.session_model import CLOSED_SESSION_KEEP_MS, SessionModel, UnknownSessionError
from tests.collector.janus_sequences import T0_MS, Janus
from tests.collector.model_helpers import ROOM, bodies, feed, janus, register

VISITS = 20


def churn(model: SessionModel) -> list[str]:
    """``host`` publishes and stays; visitors each join, subscribe to it, publish, leave."""
    visitors = [f"visitor-{n}" for n in range(VISITS)]
    register(model, ROOM, "host", *visitors)
    j = Janus()
    j.create_room(ROOM, 0)
    j.join("host", ROOM, 100)
    j.publish("host", ROOM, 110)
    for n, visitor in enumerate(visitors):
        at = 1_000 + n * 1_000
        j.join(visitor, ROOM, at)
        j.publish(visitor, ROOM, at + 10)
        j.subscribe(visitor, ROOM, "host", at + 200)
        j.publisher_stats(visitor, at + 400)
        j.subscriber_stats(visitor, "host", at + 400)
        j.clean_leave(visitor, ROOM, at + 500)
    feed(model, j.events)
    return visitors


def test_participants_who_left_an_open_session_keep_no_endpoints(model: SessionModel) -> None:
    visitors = churn(model)
    [session] = model.registry.sessions.values()
    assert len(session.connections) == VISITS + 1
    for visitor in visitors:
        left = session.connections[visitor]
        assert not left.open
        assert left.publisher is None
        assert left.subscribers == {}
        assert len(left.closed_publishers) == 1
        assert len(left.closed_subscribers) == 1
    assert set(model.registry.connections) == {"host"}
    assert set(janus(model).handles.bitrates) == {
        model.registry.sessions[ROOM].connections["host"].control_handle_id
    }


def test_the_session_summary_still_lists_every_visit_with_its_streams(
    model: SessionModel,
) -> None:
    visitors = churn(model)
    j = Janus()
    j.destroy_room(ROOM, 60_000)
    docs = feed(model, j.events)
    summaries = bodies(docs, elastic_type="connectionSummary")
    assert {s["connectionId"] for s in summaries} == {"host", *visitors}
    for summary in summaries:
        if summary["connectionId"] != "host":
            assert summary["publishers"]["numberOfElements"] == 1
            assert summary["subscribers"]["numberOfElements"] == 1


def closed_session(model: SessionModel) -> None:
    register(model, ROOM, "alice")
    j = Janus()
    j.create_room(ROOM, 0)
    j.join("alice", ROOM, 100)
    j.publish("alice", ROOM, 110)
    j.clean_leave("alice", ROOM, 5_000)
    docs = feed(model, j.events)
    assert bodies(docs, event="sessionDestroyed")


def late_status(model: SessionModel) -> None:
    model.recording(
        RecordingInput.model_validate(
            {
                "id": ROOM,
                "sessionId": ROOM,
                "name": "rec",
                "outputMode": "COMPOSED",
                "startTime": T0_MS + 500,
                "status": "ready",
                "timestamp": T0_MS + 9_000,
            }
        )
    )


def test_a_closed_session_still_takes_late_statuses_within_the_keep_time(
    model: SessionModel, clock: FixedClock
) -> None:
    closed_session(model)
    clock.current_ms = T0_MS + CLOSED_SESSION_KEEP_MS
    model.settle_due()
    late_status(model)  # no UnknownSessionError


def test_a_closed_session_and_its_registrations_are_forgotten_after_the_keep_time(
    model: SessionModel, clock: FixedClock
) -> None:
    closed_session(model)
    clock.current_ms = T0_MS + 5_010 + CLOSED_SESSION_KEEP_MS + 1
    model.settle_due()
    with pytest.raises(UnknownSessionError):
        late_status(model)
    assert model.registrations.session_infos == {}
    assert model.registrations.identities == {}
    assert model.registry.closed_sessions == type(model.registry.closed_sessions)()


def test_a_closed_session_without_recordings_lets_go_of_its_connections(
    model: SessionModel,
) -> None:
    closed_session(model)
    assert model.registry.last_session[ROOM].connections == {}
    assert model.registry.sessions == {}
