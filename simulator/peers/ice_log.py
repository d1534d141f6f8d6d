"""What a client's own ICE agent went through, as Kurento's endpoint events (``kms``).

Janus reports every endpoint's ICE, DTLS and media-flow events itself; LiveKit reports none
(issue 17: what the server does not expose comes from the client, marked ``rtcsim_side:
client``). A browser sees its side of the same facts: the peer connection's gathering, ICE and
connection state changes, and the candidate pair its agent selected. :class:`IceLog` notes
them for one aiortc peer connection as they happen (its event emitter's callbacks), dated on
the host clock, with the time since the connection was made; the player posts them as
``POST /client-events`` for the endpoints the connection carries (``player.client_side``).

States are Kurento's ``IceComponentState`` (what Janus's are mapped to, ``docs/documents.md``
§2): aiortc's ``checking`` is ``CONNECTING``, ``completed`` ``READY``, ``closed``
``DISCONNECTED``; gathering is ``GATHERING``, its end ``IceGatheringDone``. aiortc has no
``connected`` ICE state (it goes from ``checking`` to ``completed``), so a client-side log has
no ``CONNECTED`` component state: none is invented.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCPeerConnection

ICE_STATES = {
    "checking": "CONNECTING",
    "connected": "CONNECTED",
    "completed": "READY",
    "failed": "FAILED",
    "closed": "DISCONNECTED",
}
"""aiortc's ``iceConnectionState`` to Kurento's ``IceComponentState`` (``new``: no event)."""
STREAM_ID = 1
COMPONENT_ID = 1
"""One bundled transport, one component (rtcp-mux): Kurento's ids for it."""


@dataclass(frozen=True)
class IceEvent:
    """One endpoint event: its Kurento ``type``, when, and the fields of that type."""

    type: str
    timestamp_ms: int
    ms_since_creation: int
    fields: dict[str, Any] = field(default_factory=dict)


def _now_ms() -> int:
    return int(time.time() * 1000)


class IceLog:
    """The endpoint events of one peer connection, in the order they happened.

    Written on the loop the connection lives on (the client namespace's), read from another
    (the player's, which posts them): :meth:`since` copies under the lock the writes take, so
    a reader never sees a list in the middle of an append, whichever Python runs it."""

    def __init__(self, pc: RTCPeerConnection) -> None:
        self.created_ms = _now_ms()
        self.events: list[IceEvent] = []
        self._lock = threading.Lock()
        self._pc = pc
        self._pair_noted = False
        self._connected = False
        self._gathered = False
        self._component_state: str | None = None
        pc.on("icegatheringstatechange", self._on_gathering)
        pc.on("iceconnectionstatechange", self._on_ice)
        pc.on("connectionstatechange", self._on_connection)

    def since(self, start: int) -> list[IceEvent]:
        """The events from the ``start``-th on (0: all), as they are now."""
        with self._lock:
            return self.events[start:]

    def _note(self, kind: str, **fields: Any) -> None:
        now = _now_ms()
        with self._lock:
            self.events.append(IceEvent(kind, now, max(0, now - self.created_ms), fields))

    def _component(self, state: str) -> None:
        if state == self._component_state:
            return  # a renegotiation re-evaluates the state: no change, no event
        self._component_state = state
        self._note(
            "IceComponentStateChange", streamId=STREAM_ID, componentId=COMPONENT_ID, state=state
        )

    def _on_gathering(self) -> None:
        state = self._pc.iceGatheringState
        if state == "gathering":
            self._component("GATHERING")
        elif state == "complete" and not self._gathered:
            self._gathered = True  # once: a renegotiation gathers nothing new (bundled)
            self._note("IceGatheringDone")

    def _on_ice(self) -> None:
        state = ICE_STATES.get(self._pc.iceConnectionState)
        if state is None:
            return
        self._component(state)
        if state in ("CONNECTED", "READY"):
            self._note_pair()

    def _note_pair(self) -> None:
        """The selected pair, once: when ICE completes, or (the controlled side, whose pair
        aioice may nominate a moment later) when the connection is up."""
        if self._pair_noted:
            return
        pair = selected_pair(self._pc)
        if pair is not None:
            self._pair_noted = True
            self._note("NewCandidatePairSelected", candidatePair=pair)

    def _on_connection(self) -> None:
        state = self._pc.connectionState
        if state == "connected" and not self._connected:
            self._note_pair()
            self._connected = True
            self._media_state("DISCONNECTED", "CONNECTED")
        elif state in ("failed", "closed") and self._connected:
            self._connected = False
            self._media_state("CONNECTED", "DISCONNECTED")

    def _media_state(self, old: str, new: str) -> None:
        for kind in ("MediaStateChanged", "ConnectionStateChanged"):
            self._note(kind, oldState=old, newState=new)


def selected_pair(pc: RTCPeerConnection) -> dict[str, Any] | None:
    """The pair aioice nominated for the connection's (bundled) transport, as Kurento's
    ``IceCandidatePair``: candidates as SDP attribute values (``candidate:...``). aiortc
    exposes no selected pair (``RTCIceTransport.getSelectedCandidatePair`` is missing), so it is
    read from aioice's ``Connection._nominated`` (the controlling side's nomination) or its
    check list (the controlled side, before the nomination is recorded)."""
    transports = [t.sender.transport or t.receiver.transport for t in pc.getTransceivers()]
    if pc.sctp is not None:  # LiveKit's subscriber connection begins with its data channel
        transports.append(pc.sctp.transport)
    for dtls in transports:
        if dtls is None:
            continue
        connection = getattr(dtls.transport, "_connection", None)
        nominated = getattr(connection, "_nominated", None) or {}
        pair = nominated.get(COMPONENT_ID)
        if pair is None:  # the controlled side: the pair whose check succeeded
            checked = getattr(connection, "_check_list", None) or []
            pair = next((p for p in checked if p.state.name == "SUCCEEDED"), None)
        if pair is not None:
            return {
                "streamId": str(STREAM_ID),
                "componentId": COMPONENT_ID,
                "localCandidate": "candidate:" + pair.local_candidate.to_sdp(),
                "remoteCandidate": "candidate:" + pair.remote_candidate.to_sdp(),
            }
    return None


def ice_log(pc: RTCPeerConnection) -> IceLog | None:
    """The log :func:`watch` attached to ``pc``, if any."""
    log = getattr(pc, "_rtcsim_ice_log", None)
    return log if isinstance(log, IceLog) else None


def watch(pc: RTCPeerConnection) -> RTCPeerConnection:
    """Note ``pc``'s endpoint events from now on (``simulator.peers.rtc`` does it to every
    peer connection it makes, before anything is gathered)."""
    pc._rtcsim_ice_log = IceLog(pc)  # type: ignore[attr-defined]
    return pc
