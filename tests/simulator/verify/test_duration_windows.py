"""The duration checks hold the server's own times to the ledger's windows: a Janus event dated
between the request the simulator sent and the answer it read is right, however late a busy
generator read the answer; one outside the window by more than the tolerance is wrong."""

from __future__ import annotations

from typing import Any

from simulator.ledger import (
    ConnectionRecord,
    Ledger,
    ParticipantRecord,
    PublicationRecord,
    SessionRecord,
)
from simulator.verify.invariants import Tolerances, summary_checks

T0 = 1_800_000_000_000


def _ledger(publication: PublicationRecord) -> Ledger:
    conn = ConnectionRecord(
        connection_id="c1",
        session_id="s1",
        joined_ms=T0 + 1_000,
        join_asked_ms=T0 + 200,
        left_ms=T0 + 30_000,
        leave_asked_ms=T0 + 28_000,
        end="disconnect",
        publications=[publication],
    )
    ledger = Ledger(run_id="r", scenario="x", seed=0, started_ms=T0)
    ledger.sessions["room"] = SessionRecord(
        "room",
        "s1",
        created_ms=T0 + 100,
        create_asked_ms=T0,
        closed_ms=T0 + 30_000,
        close_asked_ms=T0 + 28_000,
    )
    ledger.participants["alice"] = ParticipantRecord(
        "alice", "u1", "room", "here", "rtcsim", connections=[conn]
    )
    return ledger


def _publication(**times: int) -> PublicationRecord:
    record = PublicationRecord(
        stream_id="st1",
        audio=True,
        video=False,
        width=None,
        height=None,
        fps=None,
        started_ms=T0 + 1_000,
        end="disconnect",
    )
    for name, value in times.items():
        setattr(record, name, value)
    return record


def _documents(start_ms: int, end_ms: int) -> list[dict[str, Any]]:
    def span(first: int, last: int) -> dict[str, Any]:
        return {"duration": (last - first) // 1000, "reason": "disconnect"}

    conn: dict[str, Any] = {
        "elastic_type": "connectionSummary",
        "connectionId": "c1",
        "createdAt": T0 + 500,
        "destroyedAt": T0 + 29_000,
        "publishers": {"numberOfElements": 1},
        "subscribers": {"numberOfElements": 0},
        **span(T0 + 500, T0 + 29_000),
    }
    user = {"id": "u1", "connections": {"numberOfElements": 1, "content": [conn]}}
    return [
        {
            "elastic_type": "sessionSummary",
            "sessionId": "s1",
            "createdAt": T0 + 50,
            "destroyedAt": T0 + 29_000,
            "users": {"numberOfElements": 1, "content": [user]},
            **span(T0 + 50, T0 + 29_000),
            "reason": "lastParticipantLeft",
        },
        conn,
        {
            "elastic_type": "publisherSummary",
            "streamId": "st1",
            "startTime": start_ms,
            "timestamp": end_ms,
            **span(start_ms, end_ms),
        },
    ]


def _failed(publication: PublicationRecord, start_ms: int, end_ms: int) -> list[str]:
    checks = summary_checks(_ledger(publication), _documents(start_ms, end_ms), Tolerances())
    return [c.name for c in checks if not c.ok]


# The publisher had the answer at +2 s and saw ICE connected at +5 s; its goodbye went at +20 s
# and was answered at +23 s (a generator whose loop ran seconds late).
BUSY = {
    "negotiated_ms": T0 + 2_000,
    "ice_connected_ms": T0 + 5_000,
    "ended_ms": T0 + 20_000,
    "end_answered_ms": T0 + 23_000,
}


def test_a_server_start_and_end_inside_the_windows_pass() -> None:
    assert _failed(_publication(**BUSY), T0 + 2_500, T0 + 22_900) == []


def test_the_whole_session_and_connection_pass_inside_their_windows() -> None:
    checks = summary_checks(
        _ledger(_publication(**BUSY)), _documents(T0 + 3_000, T0 + 21_000), Tolerances()
    )
    assert {c.name for c in checks if "duration" in c.name and c.ok} == {
        "s1: session duration",
        "alice (c1): duration",
        "alice (c1) publishes st1: duration",
    }


def test_a_server_end_after_the_answer_was_read_fails() -> None:
    assert _failed(_publication(**BUSY), T0 + 5_000, T0 + 25_000) == [
        "alice (c1) publishes st1: duration"
    ]


def test_a_server_start_before_the_answer_was_read_fails() -> None:
    assert _failed(_publication(**BUSY), T0 + 500, T0 + 20_000) == [
        "alice (c1) publishes st1: duration"
    ]


def test_without_a_window_one_stamp_is_both_bounds() -> None:
    exact = _publication(ice_connected_ms=T0 + 5_000, ended_ms=T0 + 20_000)
    assert _failed(exact, T0 + 4_600, T0 + 20_300) == []
    assert _failed(exact, T0 + 3_000, T0 + 20_000) == ["alice (c1) publishes st1: duration"]


def test_the_expected_length_names_the_window() -> None:
    checks = summary_checks(
        _ledger(_publication(**BUSY)), _documents(T0 + 3_000, T0 + 21_000), Tolerances()
    )
    check = next(c for c in checks if c.name == "alice (c1) publishes st1: duration")
    assert check.expected == "15.0–21.0 s ± 1"
