"""One of a LiveKit participant's two peer connections, with its trickle bookkeeping.

LiveKit names them by ``SignalTarget``: PUBLISHER (the client offers, the server answers) and
SUBSCRIBER (the server offers whenever subscriptions change, the client answers). Candidates
the server trickles can overtake the description they belong to, so they wait here until the
remote description is set. Negotiations of one connection never overlap (``lock``).
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiortc import RTCPeerConnection
from livekit.protocol import rtc as pb

from simulator.driver.livekit.candidates import (
    TrickledCandidate,
    local_candidates,
    to_aiortc,
)

log = logging.getLogger(__name__)

CONNECTED_STATES = frozenset({"connected"})
FAILED_STATES = frozenset({"failed", "closed"})


class PeerSide:
    """A peer connection and what LiveKit's signalling needs to know of it."""

    def __init__(self, target: pb.SignalTarget, pc: RTCPeerConnection) -> None:
        self.target = target
        self.pc = pc
        self.lock = asyncio.Lock()
        self.created_at = time.monotonic()
        self.connected_after_s: float | None = None
        self.local_sdp = ""
        self.remote_sdp = ""
        self.negotiations = 0
        self.remote_candidates: list[str] = []
        self._pending: list[TrickledCandidate | None] = []
        self._trickled_local = False
        self._connected = asyncio.Event()
        self._failed = asyncio.Event()

        @pc.on("connectionstatechange")
        def on_state() -> None:
            if pc.connectionState in CONNECTED_STATES:
                if self.connected_after_s is None:
                    self.connected_after_s = time.monotonic() - self.created_at
                self._connected.set()
            elif pc.connectionState in FAILED_STATES:
                self._failed.set()

    @property
    def name(self) -> str:
        return "publisher" if self.target == pb.SignalTarget.PUBLISHER else "subscriber"

    async def add_remote_candidate(self, candidate: TrickledCandidate | None) -> None:
        """A candidate LiveKit trickled (None: its gathering is complete)."""
        if candidate is not None:
            self.remote_candidates.append(candidate.candidate)
        if self.pc.remoteDescription is None:
            self._pending.append(candidate)
            return
        await self._add(candidate)

    async def remote_description_set(self) -> None:
        """Add what was trickled before the remote description arrived."""
        pending, self._pending = self._pending, []
        for candidate in pending:
            await self._add(candidate)

    async def _add(self, candidate: TrickledCandidate | None) -> None:
        try:
            await self.pc.addIceCandidate(None if candidate is None else to_aiortc(candidate))
        except Exception as exc:  # a candidate aiortc cannot parse must not end the session
            log.warning("%s: cannot add LiveKit's candidate %s: %s", self.name, candidate, exc)

    def local_candidates_once(self) -> list[TrickledCandidate]:
        """The local candidates to trickle after the first negotiation (aiortc gathers once
        per peer connection; later descriptions repeat the same ones)."""
        if self._trickled_local or self.pc.localDescription is None:
            return []
        self._trickled_local = True
        return local_candidates(self.pc.localDescription.sdp)

    async def wait_connected(self, timeout_s: float) -> None:
        """Until ICE and DTLS are up; raises ``ConnectionError`` if the connection fails."""
        if self._connected.is_set():
            return
        connected = asyncio.ensure_future(self._connected.wait())
        failed = asyncio.ensure_future(self._failed.wait())
        try:
            done, _ = await asyncio.wait(
                {connected, failed}, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            connected.cancel()
            failed.cancel()
        if self._connected.is_set():
            return
        state = self.pc.connectionState
        if not done:
            raise ConnectionError(
                f"{self.name} peer connection not connected within {timeout_s:g} s ({state})"
            )
        raise ConnectionError(f"{self.name} peer connection {state}")

    async def close(self) -> None:
        await self.pc.close()
