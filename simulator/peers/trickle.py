"""Candidates a server trickles, and a peer connection coming up, for servers whose SDPs carry no
candidates (LiveKit: pion trickles them after the description).

aiortc gathers all of its own candidates before ``setLocalDescription`` returns and writes them
into its SDP, so only the remote side ever trickles here. A trickled candidate can overtake the
description it belongs to: it waits (``TrickledCandidates``) until the remote description is
set. aioice starts checking pairs as candidates arrive and ends the checks only once the remote
side said it gathered them all (``None``, the end-of-candidates mark).
"""

from __future__ import annotations

import asyncio
import logging

from aiortc import RTCIceCandidate, RTCPeerConnection
from aiortc.sdp import candidate_from_sdp

log = logging.getLogger(__name__)

CANDIDATE_PREFIX = "candidate:"
_UP = "connected"
_DOWN = frozenset({"failed", "closed"})


def to_aiortc(candidate: str, sdp_mid: str | None, sdp_mline_index: int | None) -> RTCIceCandidate:
    """An ``a=candidate`` value (``candidate:...``, without ``a=``) for ``addIceCandidate``."""
    parsed = candidate_from_sdp(candidate.removeprefix(CANDIDATE_PREFIX))
    parsed.sdpMid = sdp_mid
    parsed.sdpMLineIndex = sdp_mline_index
    if sdp_mid is None and sdp_mline_index is None:
        parsed.sdpMLineIndex = 0  # aiortc insists on one; BUNDLE puts all on the first
    return parsed


def candidate_address(candidate: str) -> str:
    """A candidate's connection address (its fifth field)."""
    fields = candidate.removeprefix(CANDIDATE_PREFIX).split()
    return fields[4] if len(fields) > 4 else ""


class TrickledCandidates:
    """The candidates a server trickled for one peer connection, added once they can be."""

    def __init__(self, pc: RTCPeerConnection) -> None:
        self.pc = pc
        self.addresses: list[str] = []
        """The address of every candidate trickled, for the namespace check."""
        self._pending: list[RTCIceCandidate | None] = []

    async def add(
        self, candidate: str | None, sdp_mid: str | None = None, sdp_mline_index: int | None = None
    ) -> None:
        """A candidate (``None``: the server gathered them all)."""
        parsed: RTCIceCandidate | None = None
        if candidate is not None:
            try:
                parsed = to_aiortc(candidate, sdp_mid, sdp_mline_index)
            except Exception as exc:  # one it cannot parse must not end the session
                log.warning("cannot parse the server's candidate %r: %s", candidate, exc)
                return
            self.addresses.append(candidate_address(candidate))
        if self.pc.remoteDescription is None:
            self._pending.append(parsed)
            return
        await self._add(parsed)

    async def flush(self) -> None:
        """Add what came before the remote description; call once it is set."""
        pending, self._pending = self._pending, []
        for candidate in pending:
            await self._add(candidate)

    async def _add(self, candidate: RTCIceCandidate | None) -> None:
        try:
            await self.pc.addIceCandidate(candidate)
        except Exception as exc:
            log.warning("cannot add the server's candidate %s: %s", candidate, exc)


async def wait_connected(pc: RTCPeerConnection, timeout_s: float, what: str) -> None:
    """Until ICE and DTLS are up on ``pc``; ``ConnectionError`` if it fails or takes longer."""
    if pc.connectionState == _UP:
        return
    changed = asyncio.Event()

    def on_change() -> None:
        changed.set()

    pc.on("connectionstatechange", on_change)
    try:
        async with asyncio.timeout(timeout_s):
            while pc.connectionState != _UP:
                if pc.connectionState in _DOWN:
                    raise ConnectionError(f"{what} peer connection {pc.connectionState}")
                changed.clear()
                await changed.wait()
    except TimeoutError:
        raise ConnectionError(
            f"{what} peer connection not connected within {timeout_s:g} s ({pc.connectionState})"
        ) from None
    finally:
        pc.remove_listener("connectionstatechange", on_change)
