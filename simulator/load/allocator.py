"""Seats in rooms for load users: rooms fill by a rule (``users_per_room``), in order.

A seat's index decides the role: the first ``publishers_per_room`` seats of a room publish,
the others subscribe to them. Each seat of a room is given once: a room is one OpenVidu
session from its first join to its last leave, so it is never refilled after it empties (a
refilled room would be a second session under the same id). A room whose occupants have all
gone is retired even if some of its seats were never taken, and the next user opens a new room.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Seat:
    room: str
    index: int
    publishes: bool

    @property
    def number(self) -> int:
        """The room's number in its process, from 1 in opening order."""
        return int(self.room.rsplit("-", 1)[1])

    @property
    def opens_room(self) -> bool:
        """The first seat of a room creates it (on Janus, and as a session for the collector)."""
        return self.index == 0


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
        self._lock = threading.Lock()
        self._room = 0  # the room being filled (1-based once the first seat is taken)
        self._next_index = users_per_room  # no room open yet
        self._occupants: dict[int, int] = {}

    def room_name(self, number: int) -> str:
        return f"{self.prefix}-{number}"

    def take(self) -> Seat:
        with self._lock:
            if self._next_index >= self.users_per_room or self._room not in self._occupants:
                self._room += 1
                self._next_index = 0
                self._occupants[self._room] = 0
            index = self._next_index
            self._next_index += 1
            self._occupants[self._room] += 1
            room = self._room
        return Seat(self.room_name(room), index, index < self.publishers_per_room)

    def release(self, seat: Seat) -> bool:
        """Free ``seat``; True when it was the room's last occupant (the room is retired)."""
        number = seat.number
        with self._lock:
            left = self._occupants.get(number, 0) - 1
            if left > 0:
                self._occupants[number] = left
                return False
            self._occupants.pop(number, None)
            return True

    @property
    def occupied(self) -> int:
        with self._lock:
            return sum(self._occupants.values())
