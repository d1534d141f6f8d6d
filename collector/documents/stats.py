"""Periodic documents: ``webrtcStats`` (per endpoint and media) and ``monitoringStats`` (host).

webrtcStats fields: ``openvidu-documents.md`` §4.1. Publisher endpoints (media flowing *into* the
server) carry Kurento's inbound RTP stats; subscriber endpoints carry the outbound ones (inferred
from Kurento's RTCOutboundRTPStreamStats, as OpenVidu documented none). ``rtcsim_side`` says whether
the numbers come from the media server (``server``) or from the simulator's aiortc peers
(``client``). monitoringStats: §4.2; ``mem.used`` is in kB.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from collector.documents.base import Document


class WebrtcStats(Document):
    """One sample of one endpoint's RTP stats for one media kind."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)

    elastic_type: Literal["webrtcStats"] = "webrtcStats"
    session: str
    sessionId: str
    uniqueSessionId: str | None = None
    user: str
    connection: str
    connectionId: str
    endpoint: str
    mediaType: Literal["audio", "video"]
    timestamp: int
    rtcsim_side: Literal["server", "client"]
    rtcsim_run_id: str | None = None
    layer: int | None = None
    """A simulcast publisher's video layer (Janus substream, 0 = lowest); absent otherwise."""
    rtcsim_substream: int | None = None
    """A subscriber's video: the simulcast layer Janus relays it (0 = lowest); absent otherwise."""
    rtcsim_substream_since: int | None = None
    """Since when (ms) it has been relayed that layer: the last switch."""
    # inbound (publisher endpoint: the server receives)
    jitter: float | None = None
    bytesReceived: int | None = None
    packetsReceived: int | None = None
    packetsLost: int | None = None
    fractionLost: float | None = None
    remb: int | None = None
    firCount: int | None = None
    pliCount: int | None = None
    nackCount: int | None = None
    sliCount: int | None = None
    # outbound (subscriber endpoint: the server sends)
    bytesSent: int | None = None
    packetsSent: int | None = None
    roundTripTime: float | None = None
    targetBitrate: int | None = None

    def identity(self) -> tuple[object, ...]:
        key = (self.rtcsim_side, self.sessionId, self.endpoint, self.mediaType, self.timestamp)
        return key if self.layer is None else (*key, self.layer)


class MemoryUsage(BaseModel):
    model_config = ConfigDict(frozen=True)

    used: int
    percentage: float


class NetCounters(BaseModel):
    model_config = ConfigDict(frozen=True)

    rxBytes: int
    txBytes: int


class MonitoringStats(Document):
    """Host CPU, memory and per-interface traffic, plus the Janus process's own CPU and RSS."""

    elastic_type: Literal["monitoringStats"] = "monitoringStats"
    timestamp: int
    cpu: float
    mem: MemoryUsage
    net: dict[str, NetCounters]
    janus_cpu: float | None = None
    janus_rss_kb: int | None = None
    rtcsim_run_id: str | None = None

    def identity(self) -> tuple[object, ...]:
        return (self.timestamp,)
