"""A peer connection's endpoint events, noted as Kurento names them, from aiortc's state
changes (a stand-in connection that emits them as aiortc's does)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from aiortc import RTCConfiguration, RTCPeerConnection

from simulator.peers.ice_log import IceLog, ice_log, watch
from simulator.peers.rtc import new_peer_connection


class FakeConnection:
    """The states, the emitter and the transports ``IceLog`` reads of an RTCPeerConnection."""

    def __init__(self) -> None:
        self.handlers: dict[str, Any] = {}
        self.iceGatheringState = "new"
        self.iceConnectionState = "new"
        self.connectionState = "new"
        self.sctp: Any = None

    def on(self, event: str, handler: Any) -> None:
        self.handlers[event] = handler

    def getTransceivers(self) -> list[Any]:
        return []

    def go(self, event: str, attribute: str, state: str) -> None:
        setattr(self, attribute, state)
        self.handlers[event]()


def _pair_transport() -> Any:
    """An SCTP transport whose ICE connection's check list has one pair that succeeded."""

    def candidate(address: str) -> Any:
        return SimpleNamespace(to_sdp=lambda: f"1 1 udp 2130706431 {address} 5000 typ host")

    pair = SimpleNamespace(
        state=SimpleNamespace(name="SUCCEEDED"),
        local_candidate=candidate("198.18.0.2"),
        remote_candidate=candidate("198.18.0.1"),
    )
    connection = SimpleNamespace(_nominated={}, _check_list=[pair])
    return SimpleNamespace(
        transport=SimpleNamespace(transport=SimpleNamespace(_connection=connection))
    )


def test_a_connection_that_comes_up_logs_kurentos_events_in_order_once_each() -> None:
    pc = FakeConnection()
    log = IceLog(pc)  # type: ignore[arg-type]
    pc.go("icegatheringstatechange", "iceGatheringState", "gathering")
    pc.go("icegatheringstatechange", "iceGatheringState", "complete")
    pc.go("iceconnectionstatechange", "iceConnectionState", "checking")
    pc.sctp = _pair_transport()
    pc.go("iceconnectionstatechange", "iceConnectionState", "completed")
    pc.go("connectionstatechange", "connectionState", "connected")
    # a renegotiation: gathering done and ICE completed again, no change
    pc.go("icegatheringstatechange", "iceGatheringState", "complete")
    pc.go("iceconnectionstatechange", "iceConnectionState", "completed")
    pc.go("iceconnectionstatechange", "iceConnectionState", "closed")
    pc.go("connectionstatechange", "connectionState", "closed")
    assert [(e.type, e.fields.get("state") or e.fields.get("newState")) for e in log.events] == [
        ("IceComponentStateChange", "GATHERING"),
        ("IceGatheringDone", None),
        ("IceComponentStateChange", "CONNECTING"),
        ("IceComponentStateChange", "READY"),
        ("NewCandidatePairSelected", None),
        ("MediaStateChanged", "CONNECTED"),
        ("ConnectionStateChanged", "CONNECTED"),
        ("IceComponentStateChange", "DISCONNECTED"),
        ("MediaStateChanged", "DISCONNECTED"),
        ("ConnectionStateChanged", "DISCONNECTED"),
    ]
    pair = log.events[4].fields["candidatePair"]
    assert pair == {
        "streamId": "1",
        "componentId": 1,
        "localCandidate": "candidate:1 1 udp 2130706431 198.18.0.2 5000 typ host",
        "remoteCandidate": "candidate:1 1 udp 2130706431 198.18.0.1 5000 typ host",
    }
    assert all(e.ms_since_creation >= 0 for e in log.events)
    assert all(e.timestamp_ms >= log.created_ms for e in log.events)


def test_a_connection_without_a_selected_pair_logs_none() -> None:
    pc = FakeConnection()
    log = IceLog(pc)  # type: ignore[arg-type]
    pc.go("iceconnectionstatechange", "iceConnectionState", "checking")
    pc.go("iceconnectionstatechange", "iceConnectionState", "failed")
    pc.go("connectionstatechange", "connectionState", "failed")  # never connected: no change
    assert [e.fields.get("state") for e in log.events] == ["CONNECTING", "FAILED"]


async def test_every_peer_connection_rtcsim_makes_is_watched() -> None:
    made, plain = new_peer_connection(), RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        assert ice_log(made) is not None
        assert ice_log(plain) is None
        assert ice_log(watch(plain)) is not None
    finally:
        await made.close()
        await plain.close()
