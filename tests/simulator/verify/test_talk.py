from simulator.ledger import (
    ConnectionRecord,
    Ledger,
    ParticipantRecord,
    PublicationRecord,
    TalkingRecord,
)
from simulator.verify.talk import talk_checks

T0 = 1_000_000
SPURTS = [[T0, T0 + 3000], [T0 + 8000, T0 + 11_000]]


def _ledger(notes: list[TalkingRecord]) -> Ledger:
    pub = PublicationRecord("host_CAMERA_X", True, False, None, None, None, T0)
    pub.talk_spurts = SPURTS
    ledger = Ledger("run", "s", 0, T0)
    host = ConnectionRecord("host-conn", "s", publications=[pub])
    listener = ConnectionRecord("listener-conn", "s", talking=notes)
    for name, conn in (("host", host), ("listener", listener)):
        ledger.participants[name] = ParticipantRecord(name, name, "r", "", "", [conn])
    return ledger


def _note(at_s: float, talking: bool) -> TalkingRecord:
    return TalkingRecord(T0 + int(at_s * 1000), "host-conn", talking, 15.0)


def test_notifications_that_follow_the_spurts_pass() -> None:
    notes = [_note(0.3, True), _note(5.8, False), _note(8.2, True), _note(13.0, False)]
    assert all(c.ok for c in talk_checks(_ledger(notes)))


def test_talking_in_a_pause_or_stopping_mid_spurt_fails() -> None:
    failed = [c for c in talk_checks(_ledger([_note(0.3, True), _note(6.0, True)])) if not c.ok]
    assert [c.name for c in failed] == [
        "host: Janus's talking notifications follow the talk spurts",
        "host: every spurt of 1 s or more was announced",
    ]
    mid_spurt = talk_checks(_ledger([_note(0.3, True), _note(2.0, False), _note(8.2, True)]))
    assert [c.ok for c in mid_spurt] == [False, True]


def test_a_room_that_announces_nothing_is_not_held_to_it() -> None:
    assert talk_checks(_ledger([])) == []
