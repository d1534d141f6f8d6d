from simulator.peers import talk
from simulator.peers.talk import Slot, TalkSchedule


def test_a_pattern_speaks_then_pauses_and_repeats() -> None:
    schedule = TalkSchedule([1.0, 0.5])
    assert [schedule.speaking(t) for t in (0.0, 0.99, 1.0, 1.49, 1.5, 2.6)] == [
        True,
        True,
        False,
        False,
        True,
        False,
    ]
    assert schedule.spurts(3.2) == [(0.0, 1.0), (1.5, 2.5), (3.0, 3.2)]


def test_a_pause_sends_a_dtx_frame_every_400_ms_and_nothing_between() -> None:
    schedule = TalkSchedule([0.2, 1.0])
    slots = [schedule.slot(i) for i in range(60)]
    assert slots[:10] == [Slot.SPEECH] * 10
    comfort = [i for i, s in enumerate(slots) if s is Slot.COMFORT]
    assert comfort == [10, 30, 50]
    assert all(s is Slot.NOTHING for i, s in enumerate(slots[10:60], 10) if i not in comfort)


def test_random_spurts_are_the_same_for_the_same_seed_and_differ_between_talkers() -> None:
    first = TalkSchedule(seed=5).spurts(60)
    assert TalkSchedule(seed=5).spurts(60) == first
    assert TalkSchedule(seed=6).spurts(60) != first
    lengths = [end - start for start, end in first[:-1]]
    assert all(length >= talk.MIN_PERIOD_S - 1e-9 for length in lengths)
    assert 0.5 < sum(lengths) / len(lengths) < 2.0  # P.59: about a second on average


def test_a_dtx_frame_is_the_toc_byte_with_no_frame_data() -> None:
    assert talk.dtx_frame(bytes([0x7B, 1, 2, 3])) == bytes([0x78])
