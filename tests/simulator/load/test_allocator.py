import pytest

from simulator.load.allocator import RoomAllocator, Seat


def test_rooms_fill_in_order_and_the_first_seat_of_each_publishes() -> None:
    rooms = RoomAllocator("load", users_per_room=3)
    seats = [rooms.take() for _ in range(5)]
    assert seats == [
        Seat("load-1", 0, True),
        Seat("load-1", 1, False),
        Seat("load-1", 2, False),
        Seat("load-2", 0, True),
        Seat("load-2", 1, False),
    ]
    assert rooms.occupied == 5


def test_a_freed_seat_is_taken_again_before_a_new_room_opens() -> None:
    rooms = RoomAllocator("load", users_per_room=2)
    first, _second, third = rooms.take(), rooms.take(), rooms.take()
    rooms.release(first)
    assert rooms.take() == first
    rooms.release(third)
    assert rooms.take() == third
    assert rooms.occupied == 3


def test_publishers_per_room_sets_how_many_seats_publish() -> None:
    rooms = RoomAllocator("r", users_per_room=4, publishers_per_room=2)
    assert [rooms.take().publishes for _ in range(5)] == [True, True, False, False, True]


@pytest.mark.parametrize(("per_room", "publishers"), [(0, 0), (2, 3), (2, -1)])
def test_impossible_room_rules_are_rejected(per_room: int, publishers: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        RoomAllocator("r", per_room, publishers)
