"""What a participant keeps about each of its peers: the simulator's ground truth per peer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCPeerConnection, RTCRtpTransceiver

from simulator.peers.cheap import Media
from simulator.peers.keyframe_request import KeyframeRequester
from simulator.peers.latency import LatencyMeter, SentFrames
from simulator.peers.layer_tracking import LayerTracker
from simulator.peers.publishing import Audio, PublishOptions, Video


@dataclass
class TrackCounters:
    """Media one side of one track saw."""

    frames: int = 0
    packets: int = 0
    bytes: int = 0


@dataclass
class PublisherState:
    stream_id: str
    options: PublishOptions
    pc: RTCPeerConnection
    audio: Audio | None
    video: Video | None
    started_at: float
    ice_connected_s: float | None = None
    negotiated_wall_ms: int | None = None
    """Wall-clock ms when the server's answer was read: its ``webrtcup`` is not before."""
    local_sdp: str = ""
    remote_sdp: str = ""
    server_streams: list[dict[str, Any]] = field(default_factory=list)
    """The server's account of the published streams (Janus: its ``configured`` reply's
    ``streams``, with ``simulcast: true`` when it took the layers)."""
    transceivers: list[RTCRtpTransceiver] = field(default_factory=list)
    """This publication's own (a kept publisher peer also holds earlier ones, inactive)."""
    sent_frames: SentFrames | None = None
    """When each video frame left (``peers.latency``); None for simulcast or no video."""


@dataclass
class SubscriptionState:
    feed: str
    peer: str
    """The subscriber peer the server's offer was for (``SubscriberOffer.peer``)."""
    pc: RTCPeerConnection
    started_at: float
    media: Media = "live"
    received: dict[str, TrackCounters] = field(default_factory=dict)
    ice_connected_s: float | None = None
    """From the subscription's start to Janus's ``webrtcup`` (ICE and DTLS done)."""
    negotiated_wall_ms: int | None = None
    """Wall-clock ms when our answer went to the server: its ``webrtcup`` is not before."""
    first_frame_s: float | None = None
    bytes_received: int = 0
    """The transport's bytes (0 on a subscriber peer shared by several subscriptions: LiveKit
    has no transport per subscription)."""
    consumers: list[asyncio.Task[None]] = field(default_factory=list)
    local_sdp: str = ""
    remote_sdp: str = ""
    stream_id: str = ""
    layers: LayerTracker = field(default_factory=LayerTracker)
    keyframes: KeyframeRequester | None = None
    """A cheap subscriber asks for a key frame while it has none (``peers.keyframe_request``)."""
    video_mid: str | None = None
    """The subscription's video m-line (the server's offer), where a layer change applies."""
    latency: LatencyMeter | None = None
    """One-way latency of each video frame received (``peers.latency``)."""
    own_transceivers: Callable[[], list[RTCRtpTransceiver]] | None = None
    """The m-lines that carry this subscription now (``peers.receiving``); None: all of
    ``pc``'s."""

    def media_transceivers(self) -> list[RTCRtpTransceiver]:
        """Where this subscription's media arrives: on a shared subscriber peer (LiveKit) only
        some of ``pc``'s m-lines are its own."""
        if self.own_transceivers is not None:
            return self.own_transceivers()
        return list(self.pc.getTransceivers())
