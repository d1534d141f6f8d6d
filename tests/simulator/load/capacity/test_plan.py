"""Which seats each step adds."""

from __future__ import annotations

from simulator.load.capacity.plan import step_seats, streams_per_room
from simulator.scenario.capacity import CapacityRoom, CapacitySpec


def test_each_step_adds_its_rooms_publishers_first_after_those_already_held() -> None:
    spec = CapacitySpec(room=CapacityRoom(users=3, publishers=1), start_rooms=2, step_rooms=1)
    first, second = step_seats(spec, 1), step_seats(spec, 2)
    assert [s.name for s in first] == [
        "cap-1-u1", "cap-1-u2", "cap-1-u3", "cap-2-u1", "cap-2-u2", "cap-2-u3",
    ]  # fmt: skip
    assert [s.name for s in second] == ["cap-3-u1", "cap-3-u2", "cap-3-u3"]
    assert [(s.publishes, s.subscribes) for s in second] == [
        (True, False), (False, True), (False, True),
    ]  # fmt: skip


def test_a_conference_room_has_publishers_that_subscribe_too() -> None:
    room = CapacityRoom(users=3, publishers=3, publishers_subscribe=True)
    spec = CapacitySpec(room=room)
    assert all(s.publishes and s.subscribes for s in step_seats(spec, 1))
    assert streams_per_room(spec) == 3 + 6
    assert streams_per_room(CapacitySpec(room=CapacityRoom(users=4))) == 1 + 3
