"""What a LiveKit participant publishes: its tracks, their transceivers and ``AddTrackRequest``s.

LiveKit learns of a track twice: first from the ``AddTrackRequest`` (its ``cid`` is the
client's id for the track, its type, source and size), answered with the track's SID, then
from the publisher connection's offer, where the m-line's msid names the same ``cid``
(livekit-server ``participant.go``: pending tracks matched by signal cid).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiortc import RTCPeerConnection, RTCRtpTransceiver
from livekit.protocol import models
from livekit.protocol import rtc as pb

from simulator.peers import cheap
from simulator.peers.peer_state import TrackCounters
from simulator.peers.publishing import PublishOptions
from simulator.peers.tracks import SweepVideoTrack, ToneAudioTrack

LocalTrack = ToneAudioTrack | SweepVideoTrack | cheap.PacketTrack
TRACK_TYPE = {"audio": models.TrackType.AUDIO, "video": models.TrackType.VIDEO}
TRACK_SOURCE = {"audio": models.TrackSource.MICROPHONE, "video": models.TrackSource.CAMERA}


@dataclass
class Publication:
    """What this participant publishes: one OpenVidu stream, one LiveKit track per kind."""

    stream_id: str
    options: PublishOptions
    tracks: dict[str, LocalTrack]
    transceivers: dict[str, RTCRtpTransceiver] = field(default_factory=dict)
    track_sids: dict[str, str] = field(default_factory=dict)  # kind -> "TR_..."
    started_at: float = field(default_factory=time.monotonic)
    ice_connected_s: float | None = None


async def make_tracks(options: PublishOptions, clips_dir: Path | None) -> dict[str, LocalTrack]:
    """The synthetic tracks ``options`` asks for: encoded live, or pre-encoded clips."""
    tracks: dict[str, LocalTrack] = {}
    if options.media == "live":
        if options.audio:
            tracks["audio"] = ToneAudioTrack()
        if options.video:
            tracks["video"] = SweepVideoTrack(options.width, options.height, options.fps)
        return tracks
    clips = clips_dir or cheap.default_clips_dir()
    # Making a clip the first time encodes a few seconds of video: not on the event loop.
    if options.audio:
        tracks["audio"] = await asyncio.to_thread(cheap.packet_audio_track, clips)
    if options.video:
        tracks["video"] = await asyncio.to_thread(
            cheap.packet_video_track, clips, options.width, options.height, options.fps
        )
    return tracks


def add_track_request(
    stream_id: str, kind: str, track: LocalTrack, options: PublishOptions
) -> pb.AddTrackRequest:
    request = pb.AddTrackRequest(
        cid=track.id,
        name=f"{stream_id}-{kind}",
        type=TRACK_TYPE[kind],
        source=TRACK_SOURCE[kind],
        disable_dtx=True,
        disable_red=True,  # aiortc has no RED (RFC 2198) for Opus
    )
    if kind == "video":
        request.width, request.height = options.width, options.height
    return request


def sending_transceiver(pc: RTCPeerConnection, track: LocalTrack) -> RTCRtpTransceiver:
    """A transceiver sending ``track``: an unpublished one of its kind again, or a new one.

    aiortc has no ``removeTrack``: an unpublished transceiver stays with its old track,
    inactive (its sender reads and drops frames); publishing swaps the new track in, which
    also changes the msid the server matches the ``cid`` against.
    """
    for transceiver in pc.getTransceivers():
        if transceiver.kind == track.kind and transceiver.direction == "inactive":
            old = transceiver.sender.track
            transceiver.sender.replaceTrack(track)
            transceiver.direction = "sendonly"
            if old is not None:
                old.stop()
            return transceiver
    return pc.addTransceiver(track, direction="sendonly")


async def snapshot_sent(publication: Publication, sent: dict[str, TrackCounters]) -> None:
    """Packets and bytes from aiortc's sender stats, frames from the tracks, into ``sent``."""
    for kind, transceiver in publication.transceivers.items():
        stats = await transceiver.sender.getStats()
        counters = sent.setdefault(kind, TrackCounters())
        for report in stats.values():
            if report.type == "outbound-rtp":
                counters.packets = int(report.packetsSent)
                counters.bytes = int(report.bytesSent)
        counters.frames = publication.tracks[kind].frames_sent
