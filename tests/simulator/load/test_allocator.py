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


def test_a_freed_seat_is_never_given_again_a_room_is_one_session() -> None:
    rooms = RoomAllocator("load", users_per_room=2)
    first, second, third = rooms.take(), rooms.take(), rooms.take()
    assert rooms.release(first) is False  # load-1 still has its second occupant
    assert rooms.take() == Seat("load-2", 1, False)
    assert rooms.release(second) is True  # the last one out retires load-1
    assert rooms.take() == Seat("load-3", 0, True)
    assert third.room == "load-2"
    assert rooms.occupied == 3


def test_a_room_that_empties_before_it_fills_is_retired() -> None:
    rooms = RoomAllocator("load", users_per_room=3)
    first = rooms.take()
    assert rooms.release(first) is True
    assert rooms.take() == Seat("load-2", 0, True)
    assert first.opens_room
    assert first.number == 1


def test_publishers_per_room_sets_how_many_seats_publish() -> None:
    rooms = RoomAllocator("r", users_per_room=4, publishers_per_room=2)
    assert [rooms.take().publishes for _ in range(5)] == [True, True, False, False, True]


@pytest.mark.parametrize(("per_room", "publishers"), [(0, 0), (2, 3), (2, -1)])
def test_impossible_room_rules_are_rejected(per_room: int, publishers: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        RoomAllocator("r", per_room, publishers)
