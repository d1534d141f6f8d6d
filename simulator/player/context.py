"""What the step executors share while one scenario plays."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from simulator.collector_client import CollectorClient
from simulator.driver.protocol import MediaServer
from simulator.identity import Identity
from simulator.ledger import ConnectionRecord, Ledger, SubscriptionRecord
from simulator.netns_loop import NamespaceLoop
from simulator.participant import Participant
from simulator.scenario.model import ImpairStep, Scenario

T = TypeVar("T")

RoomClosedHook = Callable[["RunContext", str, str], Awaitable[None]]
"""Called with (context, room name, OpenVidu reason) when a room's session closes."""
RunEndHook = Callable[["RunContext"], Awaitable[None]]


@dataclass
class PendingDrop:
    """A dropped connection the server still lists (``simulator.player.drops`` watches it)."""

    who: str
    room: str
    record: ConnectionRecord
    on_media_noticed: Callable[[], Awaitable[None]] | None
    task: asyncio.Task[None] | None = None
    provisional: list[SubscriptionRecord] = field(default_factory=list)
    """Its subscriptions, booked as ended by the drop unless their publisher ends them first
    (the server ends a subscription with its publisher's reason: ``feed_ended``)."""


@dataclass
class RunContext:
    """The run's state. Participants live on ``media`` (the client namespace's loop)."""

    scenario: Scenario
    run_id: str
    ledger: Ledger
    media: NamespaceLoop
    collector: CollectorClient
    server: MediaServer
    """The media server's driver, used on ``media`` (``on_media``)."""
    session_ids: dict[str, str] = field(default_factory=dict)
    identities: dict[str, Identity] = field(default_factory=dict)
    participants: dict[str, Participant] = field(default_factory=dict)
    stream_serials: dict[str, int] = field(default_factory=dict)
    impairments: dict[str, ImpairStep] = field(default_factory=dict)
    client_address: str = ""
    impairment_hook: Callable[[RunContext, str], Awaitable[None]] | None = None
    room_closed_hooks: list[RoomClosedHook] = field(default_factory=list)
    run_end_hooks: list[RunEndHook] = field(default_factory=list)
    features: dict[str, object] = field(default_factory=dict)
    results_dir: Path | None = None
    pending_drops: dict[str, PendingDrop] = field(default_factory=dict)
    """Dropped connections the server still lists, by connection id (``player.drops``)."""
    drop_detection_s: float = 64.0
    """How long after a drop the server has surely noticed it (``Driver.timings``)."""
    drop_noticed_after_s: float = 30.0
    """The soonest the server can end a dropped participant's media (``Driver.timings``)."""

    async def room_closed(self, room: str, reason: str) -> None:
        for hook in self.room_closed_hooks:
            await hook(self, room, reason)

    def occupants(self, session_id: str) -> list[str]:
        """Participants currently in the room whose session id is ``session_id``."""
        return [
            name
            for name in self.participants
            if self.ledger.participants[name].current.session_id == session_id
        ]

    async def apply_impairment(self, who: str) -> None:
        """(Re)apply ``who``'s impairment to all its current peers (new peers included)."""
        if self.impairment_hook is not None and who in self.impairments:
            await self.impairment_hook(self, who)

    async def on_media(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a peer or driver coroutine where its sockets belong: the client namespace."""
        return await self.media.run(coro)

    def participant(self, name: str) -> Participant:
        try:
            return self.participants[name]
        except KeyError:
            raise RuntimeError(f"{name} has not joined (no earlier join step)") from None
