"""Who else is in the room, as a LiveKit client learns it: the ``JoinResponse``'s other
participants, then a ``ParticipantUpdate`` whenever one joins, leaves or publishes.

Subscribing names a remote participant's track SIDs, which the client only knows from these
updates; a camera's two tracks are published a few milliseconds apart, each with an update of
its own, so a subscriber waits until a publisher's tracks have been still for ``SETTLE_S``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

from livekit.protocol import models

KIND = {models.TrackType.AUDIO: "audio", models.TrackType.VIDEO: "video"}
SETTLE_S = 0.3
"""How long a publisher's tracks stay as they are before its publication counts as whole
(LiveKit publishes a camera's audio and video tracks ms apart; the collector waits 250 ms)."""


class Roster:
    """The other participants of one LiveKit participant's room, by identity."""

    def __init__(self, own_identity: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.own_identity = own_identity
        self.others: dict[str, models.ParticipantInfo] = {}
        self.by_sid: dict[str, str] = {}
        """Participant SID -> identity, ours included once known."""
        self._tracks_changed_at: dict[str, float] = {}
        self._changed = asyncio.Event()
        self._clock = clock

    def update(self, infos: Iterable[models.ParticipantInfo]) -> None:
        for info in infos:
            self.by_sid[info.sid] = info.identity
            if info.identity == self.own_identity:
                continue
            if info.state == models.ParticipantInfo.DISCONNECTED:
                self.others.pop(info.identity, None)
                continue
            old = self.others.get(info.identity)
            if old is None or {t.sid for t in old.tracks} != {t.sid for t in info.tracks}:
                self._tracks_changed_at[info.identity] = self._clock()
            self.others[info.identity] = info
        # Wake whoever waits (``wait_for``), then arm a fresh event.
        self._changed.set()
        self._changed = asyncio.Event()

    def tracks(self, identity: str) -> dict[str, str]:
        """The track SIDs ``identity`` publishes now, with their kind."""
        info = self.others.get(identity)
        if info is None:
            return {}
        return {t.sid: KIND[t.type] for t in info.tracks if t.type in KIND}

    async def wait_for(self, ready: Callable[[], bool], timeout_s: float) -> bool:
        """Until ``ready()`` holds for what the updates said; False if not within the time."""
        try:
            async with asyncio.timeout(timeout_s):
                while not ready():
                    await self._changed.wait()
        except TimeoutError:
            return False
        return True

    async def published(self, identity: str, timeout_s: float) -> dict[str, str]:
        """``identity``'s tracks once it publishes some and they settled (empty: it did not
        within ``timeout_s``)."""
        deadline = self._clock() + timeout_s
        if not await self.wait_for(lambda: bool(self.tracks(identity)), timeout_s):
            return {}
        while True:
            still_s = self._clock() - self._tracks_changed_at.get(identity, 0.0)
            if still_s >= SETTLE_S or self._clock() >= deadline:
                return self.tracks(identity)
            await asyncio.sleep(SETTLE_S - still_s)
