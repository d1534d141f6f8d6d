"""Candidates a server trickles, into aiortc."""

import asyncio

from aiortc import RTCPeerConnection

from simulator.peers.trickle import TrickledCandidates, candidate_address, to_aiortc

HOST = "candidate:1 1 udp 2130706431 198.18.24.1 55583 typ host"


def test_a_trickled_candidate_becomes_an_aiortc_candidate_for_its_m_line() -> None:
    candidate = to_aiortc(HOST, "0", 0)
    assert (candidate.ip, candidate.port, candidate.type) == ("198.18.24.1", 55583, "host")
    assert (candidate.sdpMid, candidate.sdpMLineIndex) == ("0", 0)


def test_a_candidate_without_mid_or_index_goes_to_the_first_m_line() -> None:
    assert to_aiortc(HOST, None, None).sdpMLineIndex == 0


def test_a_candidates_address_is_its_fifth_field() -> None:
    assert candidate_address(HOST) == "198.18.24.1"
    assert candidate_address("candidate:garbage") == ""


def test_candidates_before_the_remote_description_wait_and_their_addresses_are_kept() -> None:
    async def main() -> tuple[list[str], int]:
        pc = RTCPeerConnection()
        trickled = TrickledCandidates(pc)
        await trickled.add(HOST, "0", 0)
        await trickled.add(None)
        await trickled.add("candidate:nonsense", "0", 0)  # unparsable: dropped, not raised
        pending = len(trickled._pending)
        await pc.close()
        return trickled.addresses, pending

    addresses, pending = asyncio.run(main())
    assert addresses == ["198.18.24.1"]
    assert pending == 2
