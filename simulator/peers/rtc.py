"""The one place that decides how rtcsim's peer connections gather ICE candidates.

No STUN or TURN server at all (``iceServers=[]``; aiortc's default would ask Google's STUN
server over the internet). The only host candidates are the addresses of the network namespace
the peer runs in: aioice drops 127.0.0.1 and IPv6 is disabled there, so what remains is the
namespace's veth address (198.18.0.0/15). That is the network rule of the project.
"""

from __future__ import annotations

from aiortc import RTCConfiguration, RTCPeerConnection

from simulator.peers import ice_log


def new_peer_connection() -> RTCPeerConnection:
    """No ICE servers (candidates stay on the namespace's veth); its endpoint events noted
    (``peers.ice_log``) for a server that reports none."""
    return ice_log.watch(RTCPeerConnection(RTCConfiguration(iceServers=[])))


def candidate_addresses(sdp: str) -> list[str]:
    """Every connection address named by an ``a=candidate`` line of an SDP."""
    addresses = []
    for line in sdp.splitlines():
        if line.startswith("a=candidate:"):
            parts = line.split()
            if len(parts) > 4:
                addresses.append(parts[4])
    return addresses
