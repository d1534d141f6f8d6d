"""What a publisher sends and how its peer is set up for it: live, cheap or simulcast media.

* live: aiortc encodes the sweep and the tone (``peers.tracks``), honouring PLI/FIR and REMB;
* cheap: pre-encoded loops (``peers.cheap``), a key frame on PLI/FIR, audio levels written;
* simulcast (``peers.simulcast``): three VP8 layers by rid on one m-line, their frames from
  clips (cheap) or from three encoders (live); aiortc carries only the audio then.

Any of them can speak in talk spurts (``peers.talk``).
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from pathlib import Path

from aiortc import RTCPeerConnection, RTCRtpSender, RTCRtpTransceiver
from aiortc.mediastreams import MediaStreamTrack

from simulator.peers import cheap, clips
from simulator.peers.simulcast.layers import RIDS, browser_layers
from simulator.peers.simulcast.publisher import SimulcastVideo
from simulator.peers.simulcast.sources import ClipLayerSource, EncoderLayerSource, LayerSource
from simulator.peers.talk import P59_PAUSE_MEAN_S, P59_TALK_MEAN_S, TalkSchedule
from simulator.peers.tracks import SweepVideoTrack, ToneAudioTrack

Audio = ToneAudioTrack | cheap.PacketTrack
Video = SweepVideoTrack | cheap.PacketTrack | SimulcastVideo


@dataclass(frozen=True)
class TalkOptions:
    """Speak and pause: ``pattern`` (seconds, speak first, alternating, repeated) or, without
    one, exponential spurts and pauses with these means, drawn from ``seed``."""

    pattern: tuple[float, ...] | None = None
    speak_mean_s: float = P59_TALK_MEAN_S
    pause_mean_s: float = P59_PAUSE_MEAN_S
    seed: int = 0

    def schedule(self) -> TalkSchedule:
        return TalkSchedule(
            self.pattern,
            speak_mean_s=self.speak_mean_s,
            pause_mean_s=self.pause_mean_s,
            seed=self.seed,
        )


@dataclass(frozen=True)
class PublishOptions:
    """What a publisher sends; mirrors OpenVidu's publisher properties."""

    audio: bool = True
    video: bool = True
    width: int = 640
    height: int = 480
    fps: int = 30
    media: cheap.Media = "live"
    simulcast: bool = False
    talk: TalkOptions | None = None
    bitrate_bps: int | None = None
    """A cheap video's clip bitrate (None: the clip's default for its size; benchmark 1 sends
    ~1 Mbit/s on every server)."""


def simulcast_clips(clips_dir: Path, width: int, height: int, fps: int) -> list[tuple[bytes, ...]]:
    """The layer clips of a simulcast capture (made on first use; blocking)."""
    return [
        clips.video_clip(
            clips_dir, layer.width, layer.height, fps, layer.bitrate_bps, temporal_layers=True
        )
        for layer in browser_layers(width, height, fps)
    ]


def prepare_clips(options: PublishOptions, clips_dir: Path) -> None:
    """Make (first time) and load every clip ``options`` will loop, before a run's clock
    starts: a 720p simulcast's three clips take seconds to encode (blocking)."""
    if options.media != "cheap":
        return
    if options.audio:
        clips.audio_clip(clips_dir)
    if options.video and options.simulcast:
        simulcast_clips(clips_dir, options.width, options.height, options.fps)
    elif options.video:
        clips.video_clip(clips_dir, options.width, options.height, options.fps)


def _simulcast_video(
    options: PublishOptions, clips_dir: Path, seed: str, rids: tuple[str, ...]
) -> SimulcastVideo:
    layers = browser_layers(options.width, options.height, options.fps, rids)
    sources: dict[str, LayerSource] = {}
    if options.media == "cheap":
        made = simulcast_clips(clips_dir, options.width, options.height, options.fps)
        for layer, frames in zip(layers, made, strict=True):
            sources[layer.rid] = ClipLayerSource(frames)
    else:
        for layer in layers:
            sources[layer.rid] = EncoderLayerSource(layer)
    return SimulcastVideo(layers, sources, encodes=options.media == "live", rng=random.Random(seed))


async def make_tracks(
    options: PublishOptions, clips_dir: Path, seed: str, rids: tuple[str, ...] = RIDS
) -> tuple[Audio | None, Video | None]:
    """The tracks for ``options`` (simulcast layers named by ``rids``, highest first). Making a
    clip the first time encodes a few seconds of video, and a live layer opens an encoder:
    both off the event loop."""
    talk = options.talk.schedule() if options.talk is not None else None
    audio: Audio | None = None
    if options.audio:
        if options.media == "live":
            audio = ToneAudioTrack(talk)
        else:
            audio = await asyncio.to_thread(cheap.packet_audio_track, clips_dir, talk)
    video: Video | None = None
    if options.video:
        if options.simulcast:
            video = await asyncio.to_thread(_simulcast_video, options, clips_dir, seed, rids)
        elif options.media == "live":
            video = SweepVideoTrack(options.width, options.height, options.fps)
        else:
            video = await asyncio.to_thread(
                cheap.packet_video_track,
                clips_dir,
                options.width,
                options.height,
                options.fps,
                options.bitrate_bps,
            )
    return audio, video


def add_tracks(
    pc: RTCPeerConnection, audio: Audio | None, video: Video | None, media: cheap.Media
) -> tuple[list[RTCRtpTransceiver], RTCRtpTransceiver | None]:
    """Put the tracks on ``pc``: the publication's transceivers, and a simulcast video's.
    Simulcast's m-line is ``recvonly`` to aiortc (it must start no sender of its own there) and
    VP8 only. A transceiver an earlier publication left inactive (a publisher peer that
    outlives its publications: aiortc has no ``removeTrack``) takes a track of its kind again,
    which also gives its m-line the new track's msid."""
    made: list[RTCRtpTransceiver] = []
    if audio is not None:
        made.append(_sending(pc, audio))
    transceiver = None
    if isinstance(video, SimulcastVideo):
        transceiver = pc.addTransceiver("video", direction="recvonly")
        codecs = RTCRtpSender.getCapabilities("video").codecs
        transceiver.setCodecPreferences(
            [c for c in codecs if c.mimeType in ("video/VP8", "video/rtx")]
        )
        made.append(transceiver)
    elif video is not None:
        made.append(_sending(pc, video))
    if media == "cheap":
        cheap.prefer_clip_codecs(pc)
    return made, transceiver


def _sending(pc: RTCPeerConnection, track: MediaStreamTrack) -> RTCRtpTransceiver:
    for transceiver in pc.getTransceivers():
        old = transceiver.sender.track
        # A simulcast m-line (its sender never had a track) is not taken again.
        if (
            transceiver.kind == track.kind
            and transceiver.direction == "inactive"
            and old is not None
        ):
            transceiver.sender.replaceTrack(track)
            transceiver.direction = "sendrecv"
            old.stop()
            return transceiver
    pc.addTrack(track)
    return next(t for t in pc.getTransceivers() if t.sender.track is track)


def cname_of(sdp: str) -> str:
    """The CNAME aiortc gave the peer (``a=ssrc:<ssrc> cname:<name>``)."""
    for line in sdp.splitlines():
        if line.startswith("a=ssrc:") and " cname:" in line:
            return line.split(" cname:", 1)[1].strip()
    return "rtcsim"
