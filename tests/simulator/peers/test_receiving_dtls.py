"""Who starts DTLS on a subscriber peer: the answer's ``a=setup`` line.

aiortc as the DTLS client sends its ClientHello the moment its side of ICE is up; Janus drops
one that comes before its own side is, and OpenSSL resends it only after 1 s (a second of ICE
time on about one Janus subscription in eight). Answering ``passive`` lets Janus start it."""

from __future__ import annotations

import pytest
from aiortc import RTCPeerConnection

from simulator.peers.receiving import ReceivingPeer
from simulator.peers.rtc import new_peer_connection


async def _server_offer() -> tuple[RTCPeerConnection, str]:
    """An offer as a server makes one: ``actpass``, one video m-line to receive (rtcsim's ICE
    policy: no STUN server)."""
    server = new_peer_connection()
    server.addTransceiver("video", direction="sendonly")
    await server.setLocalDescription(await server.createOffer())
    sdp = server.localDescription.sdp
    assert "a=setup:actpass" in sdp
    # Without its candidates: the answering side then has no pair to check, so no packet is
    # sent to this machine's own interfaces (outside a namespace, they are what it gathers).
    lines = [line for line in sdp.splitlines() if not line.startswith("a=candidate:")]
    return server, "\r\n".join(lines) + "\r\n"


@pytest.mark.parametrize(("passive", "setup"), [(True, "passive"), (False, "active")])
async def test_the_answer_says_who_starts_dtls(passive: bool, setup: str) -> None:
    server, offer = await _server_offer()
    peer = ReceivingPeer("sub", {}, dtls_passive=passive)
    try:
        answer = await peer.answer(offer, lambda _mid: None)
        assert [line for line in answer.splitlines() if line.startswith("a=setup:")] == [
            f"a=setup:{setup}"
        ]
    finally:
        await peer.pc.close()
        await server.close()
