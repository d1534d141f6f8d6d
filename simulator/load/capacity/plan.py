"""Which seats each step of a capacity search adds: pure, from the scenario's numbers."""

from __future__ import annotations

from dataclasses import dataclass

from simulator.scenario.capacity import CapacitySpec

ROOM_PREFIX = "cap"


@dataclass(frozen=True)
class CapacitySeat:
    step: int
    room: str
    index: int
    """The seat's place in its room; the first ``publishers`` seats publish."""
    name: str
    publishes: bool
    subscribes: bool


def room_name(number: int) -> str:
    """``cap-<n>``: the load allocator's shape (``Seat.number`` reads the number back)."""
    return f"{ROOM_PREFIX}-{number}"


def step_seats(spec: CapacitySpec, step: int) -> list[CapacitySeat]:
    """The seats step ``step`` (1-based) adds, room by room, publishers first in each."""
    first = 1 if step == 1 else spec.rooms_at(step - 1) + 1
    room = spec.room
    seats = []
    for number in range(first, spec.rooms_at(step) + 1):
        for index in range(room.users):
            publishes = index < room.publishers
            seats.append(
                CapacitySeat(
                    step=step,
                    room=room_name(number),
                    index=index,
                    name=f"{room_name(number)}-u{index + 1}",
                    publishes=publishes,
                    subscribes=not publishes or room.publishers_subscribe,
                )
            )
    return seats


def streams_per_room(spec: CapacitySpec) -> int:
    """Streams through the server per full room: each publication, and each subscription."""
    room = spec.room
    subscriptions = (room.users - room.publishers) * room.publishers
    if room.publishers_subscribe:
        subscriptions += room.publishers * (room.publishers - 1)
    return room.publishers + subscriptions
