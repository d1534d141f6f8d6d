"""Recordings in the session model: repeated statuses, and final values in recordingSummary."""

from __future__ import annotations

from typing import Any

from collector.metadata import RecordingInput
from collector.session_model import SessionModel
from tests.collector.janus_sequences import T0_MS, Janus
from tests.collector.model_helpers import ROOM, bodies, feed, register

REC: dict[str, Any] = {
    "id": ROOM,
    "sessionId": ROOM,
    "name": "rec",
    "outputMode": "INDIVIDUAL",
    "startTime": T0_MS + 500,
}


def status(model: SessionModel, value: str, at_ms: int, **extra: Any) -> list[dict[str, Any]]:
    rec = RecordingInput.model_validate({**REC, "status": value, "timestamp": at_ms, **extra})
    return [d.body() for d in model.recording(rec)]


def recorded_call(model: SessionModel) -> Janus:
    register(model, ROOM, "alice")
    j = Janus()
    j.create_room(ROOM, 0)
    j.join("alice", ROOM, 100)
    j.publish("alice", ROOM, 110)
    feed(model, j.events)
    j.events.clear()
    status(model, "started", T0_MS + 500)
    return j


def test_ready_after_the_session_closed_rewrites_the_recording_summary_with_final_values(
    model: SessionModel,
) -> None:
    j = recorded_call(model)
    j.leave("alice", ROOM, 5_000)
    closing = feed(model, j.events)
    [early] = bodies(closing, elastic_type="recordingSummary")
    assert early["size"] == 0
    assert early["reason"] == "lastParticipantLeft"
    assert status(model, "stopped", T0_MS + 5_001, reason="lastParticipantLeft") == []
    docs = status(
        model, "ready", T0_MS + 6_000, reason="lastParticipantLeft", size=1234, duration=4.4
    )
    [ready] = [d for d in docs if d.get("event") == "recordingStatusChanged"]
    assert ready["status"] == "ready"
    [summary] = [d for d in docs if d["elastic_type"] == "recordingSummary"]
    assert (summary["size"], summary["duration"], summary["status"]) == (1234, 4.4, "ready")
    assert summary["reason"] == "lastParticipantLeft"
    [session] = [d for d in docs if d["elastic_type"] == "sessionSummary"]
    assert session["recordings"]["content"][0]["size"] == 1234
    assert model.counters["recording_status_repeated"] == 1


def test_ready_while_the_session_is_open_lands_in_the_summary_written_at_close(
    model: SessionModel,
) -> None:
    j = recorded_call(model)
    status(model, "stopped", T0_MS + 3_000, reason="recordingStoppedByServer")
    docs = status(
        model, "ready", T0_MS + 3_500, reason="recordingStoppedByServer", size=99, duration=2.5
    )
    assert not [d for d in docs if d["elastic_type"] != "cdr"]
    j.leave("alice", ROOM, 5_000)
    [summary] = bodies(feed(model, j.events), elastic_type="recordingSummary")
    assert (summary["size"], summary["duration"]) == (99, 2.5)
    assert summary["reason"] == "recordingStoppedByServer"


def test_failed_recording_keeps_its_reason_and_says_why(model: SessionModel) -> None:
    j = recorded_call(model)
    j.destroy_room(ROOM, 4_000)
    feed(model, j.events)
    docs = status(
        model,
        "failed",
        T0_MS + 4_500,
        reason="sessionClosedByServer",
        rtcsim_failure="PpRecError: no media was recorded",
    )
    [failed] = [d for d in docs if d.get("event") == "recordingStatusChanged"]
    assert failed["reason"] == "sessionClosedByServer"
    assert failed["rtcsim_failure"] == "PpRecError: no media was recorded"
    [summary] = [d for d in docs if d["elastic_type"] == "recordingSummary"]
    assert (summary["status"], summary["size"]) == ("failed", 0)


def test_a_second_started_for_the_same_recording_is_dropped(model: SessionModel) -> None:
    recorded_call(model)
    assert status(model, "started", T0_MS + 600) == []
