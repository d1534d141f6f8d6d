from simulator.peers.rtc import candidate_addresses, new_peer_connection

SDP = """v=0
a=candidate:1 1 udp 2130706431 198.18.0.2 40000 typ host
a=candidate:2 1 udp 1694498815 203.0.113.9 40001 typ srflx raddr 198.18.0.2 rport 40000
m=video 9 UDP/TLS/RTP/SAVPF 96
"""


def test_every_candidate_line_address_is_extracted() -> None:
    assert candidate_addresses(SDP) == ["198.18.0.2", "203.0.113.9"]


async def test_peer_connections_are_built_without_any_stun_server() -> None:
    pc = new_peer_connection()
    try:
        assert pc._RTCPeerConnection__configuration.iceServers == []
    finally:
        await pc.close()
