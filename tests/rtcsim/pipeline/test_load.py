"""Ledger parts of a distributed load run merge into one ledger."""

from __future__ import annotations

from rtcsim.pipeline.load import merge_ledgers
from simulator.ledger import ConnectionRecord, Ledger, ParticipantRecord, SessionRecord


def _part(pid: int, started: int, ended: int) -> Ledger:
    part = Ledger("run", "load", 0, started_ms=started, ended_ms=ended)
    room = f"l{pid}w0-user-1"
    part.sessions[room] = SessionRecord(room, f"{room}-run", created_ms=started)
    part.participants[f"user-{pid}-1-1"] = ParticipantRecord(
        f"user-{pid}-1-1", "u", room, "here", "rtcsim", [ConnectionRecord("c", room)]
    )
    return part


def test_parts_merge_with_the_widest_time_window_and_every_room_and_visit() -> None:
    merged = merge_ledgers("run", "load", [_part(1, 100, 900), _part(2, 50, 1200)])
    assert (merged.started_ms, merged.ended_ms) == (50, 1200)
    assert sorted(merged.sessions) == ["l1w0-user-1", "l2w0-user-1"]
    assert sorted(merged.participants) == ["user-1-1-1", "user-2-1-1"]
