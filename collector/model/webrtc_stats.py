"""webrtcStats documents from Janus media stats (server side) and simulator samples (client side).

Janus sends cumulative counters per handle and m-line every second (32/3); OpenVidu wrote one
document per endpoint and media every ``OPENVIDU_PRO_STATS_WEBRTC_INTERVAL`` (30 s). We keep the
latest sample and write it at that interval and when the endpoint closes. Units follow Kurento:
``jitter`` and ``roundTripTime`` in seconds (Janus reports ms), ``remb``/``targetBitrate`` in bps.

Janus does not count FIR, PLI or SLI per handle, so ``firCount``, ``pliCount`` and ``sliCount``
are left out (the schema check knows them as unmeasured): a 0 would say "no key frame was asked
for" when nobody counted. Likewise a bitrate nobody measured is left out, never written as 0:
a subscriber that sends no REMB (Chrome uses transport-wide congestion control instead) has no
``targetBitrate``, and a publisher in a room without a bitrate cap is sent no REMB (no ``remb``).

A simulcast publisher's video arrives in up to three layers, which Janus reports apart:
``video``, ``video-sim1``, ``video-sim2`` (``ice.c``, ``janus_ice_outgoing_stats_handle``), its
substreams 0, 1, 2 with 0 the lowest quality (the VideoRoom's ``substream`` numbering). Each layer
is its own document, ``mediaType: "video"`` with ``layer`` set; the audio document is never
touched. A subscriber's video documents (server and client side) carry the layer it is relayed,
``rtcsim_substream``, and since when, ``rtcsim_substream_since`` (``Endpoint.substreams``).
"""

from __future__ import annotations

from collector.documents import WebrtcStats
from collector.metadata import ClientStatsSample, Identity
from collector.model.state import Endpoint, MediaSample, Role, Session

LAYERS = {"video": 0, "video-sim1": 1, "video-sim2": 2}
"""Janus's media names for a simulcast publisher's layers, and the substream each one is."""


def media_kind(media: str) -> str:
    """``audio`` or ``video`` for a Janus media name (``video-sim1`` is video)."""
    return "video" if media.startswith("video") else "audio"


def _fraction_lost(sample: MediaSample) -> float:
    """Loss over the interval since the last written sample (0..1), as RTCP's fraction lost."""
    now = sample.latest
    lost = now.lost
    received = now.packets_received
    if sample.written is not None:
        lost -= sample.written.lost
        received -= sample.written.packets_received
    total = lost + received
    return max(0.0, lost / total) if total > 0 else 0.0


def note_substream(endpoint: Endpoint, substream: object, since_ms: object) -> None:
    """A subscriber's relayed layer, from its client video sample: a new entry only when it
    changed (every sample repeats the current one)."""
    if not isinstance(substream, int) or not isinstance(since_ms, int):
        return
    if endpoint.substreams and endpoint.substreams[-1][0] == substream:
        return
    endpoint.substreams.append((substream, since_ms))


def substream_fields(endpoint: Endpoint, media: str) -> dict[str, int]:
    """``rtcsim_substream`` and ``rtcsim_substream_since`` of a subscriber's video."""
    if media_kind(media) != "video" or not endpoint.substreams:
        return {}
    substream, since_ms = endpoint.substreams[-1]
    return {"rtcsim_substream": substream, "rtcsim_substream_since": since_ms}


def server_stats(endpoint: Endpoint, media: str, sample: MediaSample) -> WebrtcStats:
    """One document from the latest Janus sample of ``endpoint``'s ``media`` m-line."""
    conn = endpoint.connection
    session = conn.session
    stats = sample.latest
    common = {
        "session": session.session_id,
        "sessionId": session.session_id,
        "uniqueSessionId": session.unique_id,
        "user": conn.identity.user,
        "connection": conn.connection_id,
        "connectionId": conn.connection_id,
        "endpoint": endpoint.name,
        "mediaType": media_kind(media),
        "layer": LAYERS.get(media) if endpoint.simulcast else None,
        "timestamp": sample.latest_ms,
        "rtcsim_side": "server",
        "rtcsim_run_id": session.run_id,
    }
    if endpoint.role is Role.PUBLISHER:
        return WebrtcStats.model_validate(
            {
                **common,
                "jitter": stats.jitter_local / 1000,
                "bytesReceived": stats.bytes_received,
                "packetsReceived": stats.packets_received,
                "packetsLost": stats.lost,
                "fractionLost": _fraction_lost(sample),
                "remb": endpoint.remb_bps or None,
                "nackCount": stats.nacks_sent,
            }
        )
    return WebrtcStats.model_validate(
        {
            **common,
            "jitter": stats.jitter_remote / 1000,
            "bytesSent": stats.bytes_sent,
            "packetsSent": stats.packets_sent,
            "packetsLost": stats.lost_by_remote,
            "roundTripTime": stats.rtt / 1000,
            "targetBitrate": endpoint.remb_bps or None,
            "nackCount": stats.nacks_received,
            **substream_fields(endpoint, media),
        }
    )


def client_stats(
    sample: ClientStatsSample, identity: Identity, session: Session | None
) -> WebrtcStats:
    """A client-side document: the simulator's aiortc numbers, named as Kurento's."""
    return WebrtcStats.model_validate(
        {
            **sample.numbers(),
            "session": sample.sessionId,
            "sessionId": sample.sessionId,
            "uniqueSessionId": session.unique_id if session is not None else None,
            "user": identity.user,
            "connection": sample.connectionId,
            "connectionId": sample.connectionId,
            "endpoint": sample.endpoint,
            "mediaType": sample.mediaType,
            "timestamp": sample.timestamp,
            "rtcsim_side": "client",
            "rtcsim_run_id": (session.run_id if session is not None else None) or identity.runId,
        }
    )
