"""Seats in rooms for load users: rooms fill by a rule (``users_per_room``), in order.

A seat's index decides the role: the first ``publishers_per_room`` seats of a room publish,
the others subscribe to them. A user that leaves frees its seat, and the next user to arrive
takes the lowest free seat, so rooms stay full instead of spreading thin.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Seat:
    room: str
    index: int
    publishes: bool


class RoomAllocator:
    """Shared by every user of one process; safe from greenlets and threads alike."""

    def __init__(self, prefix: str, users_per_room: int, publishers_per_room: int = 1) -> None:
        if users_per_room < 1:
            raise ValueError("users_per_room must be at least 1")
        if not 0 <= publishers_per_room <= users_per_room:
            raise ValueError("publishers_per_room must be between 0 and users_per_room")
        self.prefix = prefix
        self.users_per_room = users_per_room
        self.publishers_per_room = publishers_per_room
        self._taken: set[tuple[int, int]] = set()
        self._lock = threading.Lock()

    def room_name(self, number: int) -> str:
        return f"{self.prefix}-{number}"

    def take(self) -> Seat:
        with self._lock:
            slot = 0
            while divmod(slot, self.users_per_room) in self._taken:
                slot += 1
            room, index = divmod(slot, self.users_per_room)
            self._taken.add((room, index))
        return Seat(self.room_name(room + 1), index, index < self.publishers_per_room)

    def release(self, seat: Seat) -> None:
        number = int(seat.room.rsplit("-", 1)[1]) - 1
        with self._lock:
            self._taken.discard((number, seat.index))

    @property
    def occupied(self) -> int:
        with self._lock:
            return len(self._taken)
