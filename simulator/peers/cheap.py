"""Cheap media for load: publishers that send pre-encoded packets, subscribers that never decode.

A live peer costs ~0.1 core per VP8 publisher (encoding) and ~0.05 per subscriber (decoding);
these cost ~0.01 each (``reference/aiortc-perf.md``), so one process holds tens of them.

* **Publisher.** ``RTCRtpSender._next_encoded_frame`` packs, without encoding, whatever
  ``track.recv()`` returns that is an ``av.Packet`` rather than a frame (aiortc-perf.md,
  finding 3). ``PacketTrack`` loops a clip (``simulator.peers.clips``) made once with PyAV from
  the same sweep and tone as the live tracks, with RTP timestamps that keep increasing across
  loops. It answers PLI and FIR as an encoder would, with a key frame on the next frame: the
  loop restarts at the clip's key frame (``answer_feedback``). Its bitrate is the clip's; REMB
  is ignored (simulcast publishers, ``simulator.peers.simulcast``, drop layers on it). Audio
  carries its RFC 6464 level and can speak in talk spurts with DTX pauses (``peers.talk``).
* **Subscriber.** aiortc hands each reassembled frame to a decoder thread through a
  ``queue.Queue`` and queues the decoded frames without bound (finding 1). ``count_frames``
  swaps that queue for one that never fills, and the receiver's per-packet handler for one that
  counts frames (marker bits) and bytes: SRTP, RTX, NACK and RTCP receiver reports still run;
  nothing is depayloaded, buffered, estimated (REMB) or decoded. ``drain_sockets`` reads every
  waiting datagram per wake-up (asyncio reads one).
"""

from __future__ import annotations

import asyncio
import fractions
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, Literal

import av
from aiortc import RTCPeerConnection, RTCRtpSender, RTCRtpTransceiver
from aiortc.mediastreams import MediaStreamTrack

from simulator.peers.cheap_receive import (
    CountingQueue,
    count_after_impairment,
    count_frames,
    drain_sockets,
    keyframe_sizes,
    received_bytes,
)
from simulator.peers.clips import (
    audio_clip,
    default_clips_dir,
    keyframe_indices,
    video_clip,
)
from simulator.peers.feedback import FeedbackHub
from simulator.peers.talk import SILENCE_LEVEL, Slot, TalkSchedule, dtx_frame
from simulator.peers.tracks import AUDIO_PTIME_S, AUDIO_RATE_HZ, TONE_LEVEL, VIDEO_CLOCK_HZ

Media = Literal["live", "cheap"]


# -- publisher --------------------------------------------------------------------------------
class PacketTrack(MediaStreamTrack):
    """Loops pre-encoded packets at the clip's rate; aiortc packetizes them without encoding.

    ``keyframes``: the clip's key frame positions; ``request_keyframe`` (a PLI or FIR) makes
    the next packet the first key frame at or after the current position (the clip's only one
    is its first frame, so in practice the loop restarts). ``talk``: speak and pause on a
    schedule, with DTX silence (``simulator.peers.talk``); ``audio_level`` is the RFC 6464
    level of the packet last returned, for the sender to write in the header extension.

    ``muted`` is kept for the mute step's sake; Janus stops relaying a muted stream (VideoRoom
    ``configure`` with ``send: false``), so the packets still sent are never seen downstream.
    """

    def __init__(
        self,
        kind: str,
        packets: tuple[bytes, ...],
        interval_s: float,
        clock_hz: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        keyframes: tuple[int, ...] = (),
        talk: TalkSchedule | None = None,
        speech_level: int = TONE_LEVEL,
    ) -> None:
        super().__init__()
        self.kind = kind
        self.frames_sent = 0
        self.muted = False
        self.talk = talk
        self.audio_level = speech_level
        self.keyframe_requests = 0
        self.keyframes_answered = 0
        self.keyframe_answer_max_s: float | None = None
        self.keyframe_answer_max_frames: int | None = None
        """Frames sent between a request and its key frame: 0, the next frame is the answer."""
        self._speech_level = speech_level
        self._packets = packets
        self._keyframes = keyframes
        self._interval_s = interval_s
        self._ticks = round(interval_s * clock_hz)
        self._time_base = fractions.Fraction(1, clock_hz)
        self._clock = clock
        self._start: float | None = None
        self._slot = 0
        self._position = 0
        self._keyframe_asked_at: float | None = None
        self._keyframe_asked_frame = 0

    def request_keyframe(self) -> None:
        self.keyframe_requests += 1
        if self._keyframes and self._keyframe_asked_at is None:
            self._keyframe_asked_at = self._clock()
            self._keyframe_asked_frame = self.frames_sent

    def _next_payload(self) -> bytes:
        if self._keyframe_asked_at is not None:
            here = self._position % len(self._packets)
            later = [k for k in self._keyframes if k >= here]
            self._position = later[0] if later else self._keyframes[0] + len(self._packets)
            waited = self._clock() - self._keyframe_asked_at
            self.keyframe_answer_max_s = max(self.keyframe_answer_max_s or 0.0, waited)
            between = self.frames_sent - self._keyframe_asked_frame
            self.keyframe_answer_max_frames = max(self.keyframe_answer_max_frames or 0, between)
            self.keyframes_answered += 1
            self._keyframe_asked_at = None
        payload = self._packets[self._position % len(self._packets)]
        self._position += 1
        return payload

    async def recv(self) -> av.Packet[Any]:
        if self._start is None:
            self._start = self._clock()
            if self.talk is not None:
                self.talk.begin()
        slot = self.talk.slot(self._slot) if self.talk is not None else Slot.SPEECH
        while slot is Slot.NOTHING:
            self._slot += 1
            slot = self.talk.slot(self._slot) if self.talk is not None else Slot.SPEECH
        due = self._start + self._slot * self._interval_s
        await asyncio.sleep(max(0.0, due - self._clock()))
        if slot is Slot.SPEECH:
            packet = av.Packet(self._next_payload())
            self.audio_level = self._speech_level
        else:
            packet = av.Packet(dtx_frame(self._packets[0]))
            self.audio_level = SILENCE_LEVEL
        # Monotonic across loops and pauses: the RTP timestamp follows the clock (finding 4).
        packet.pts = self._slot * self._ticks
        packet.time_base = self._time_base
        self._slot += 1
        self.frames_sent += 1
        return packet


def packet_video_track(
    clips_dir: Path, width: int, height: int, fps: int, bitrate_bps: int | None = None
) -> PacketTrack:
    packets = video_clip(clips_dir, width, height, fps, bitrate_bps)
    return PacketTrack(
        "video", packets, 1 / fps, VIDEO_CLOCK_HZ, keyframes=keyframe_indices(packets)
    )


def packet_audio_track(clips_dir: Path, talk: TalkSchedule | None = None) -> PacketTrack:
    return PacketTrack("audio", audio_clip(clips_dir), AUDIO_PTIME_S, AUDIO_RATE_HZ, talk=talk)


def answer_feedback(
    pc: RTCPeerConnection,
    hub: FeedbackHub | None = None,
    transceivers: Iterable[RTCRtpTransceiver] | None = None,
) -> FeedbackHub:
    """Make the cheap tracks of ``pc``'s senders behave as a browser's encoder to RTCP: a key
    frame on PLI (aiortc calls ``sender._send_keyframe``, which only an encoder would honour)
    or FIR (through a ``FeedbackHub``), and the audio level of each packet in its RFC 6464
    header extension (aiortc writes one only for audio it encoded itself).

    Instance attributes of aiortc's sender, since it has no hook for either. Call after the
    tracks are added and before the connection comes up. ``transceivers``: only these (a
    publisher peer that outlives its publications gets new tracks on old senders)."""
    hub = hub or FeedbackHub()
    attached = False
    for transceiver in pc.getTransceivers() if transceivers is None else transceivers:
        sender = transceiver.sender
        track = sender.track
        if not isinstance(track, PacketTrack):
            continue
        if not attached:
            hub.attach(sender.transport)
            attached = True
        if track.kind == "video":
            sender._send_keyframe = track.request_keyframe  # type: ignore[method-assign]
            hub.keyframe_callbacks[sender._ssrc] = track.request_keyframe
        else:
            # A sender that carried an earlier track keeps aiortc's own method aside.
            original = getattr(sender, "_rtcsim_next_encoded_frame", sender._next_encoded_frame)
            sender._rtcsim_next_encoded_frame = original  # type: ignore[attr-defined]
            sender._next_encoded_frame = _with_audio_level(  # type: ignore[method-assign,assignment]
                original, track
            )
    return hub


def _with_audio_level(
    next_encoded_frame: Callable[[Any], Awaitable[Any]], track: PacketTrack
) -> Callable[[Any], Awaitable[Any]]:
    async def framed(codec: Any) -> Any:
        frame = await next_encoded_frame(codec)
        if frame is not None:
            # aiortc writes (V=0, level = -audio_level); a level is 0..127, 127 = silence.
            frame.audio_level = -track.audio_level
        return frame

    return framed


def prefer_clip_codecs(pc: RTCPeerConnection) -> None:
    """Offer only the clips' codecs (VP8, Opus): a room on H.264 then fails to negotiate
    instead of receiving VP8 bytes packetized as H.264."""
    for transceiver in pc.getTransceivers():
        wanted = "video/VP8" if transceiver.kind == "video" else "audio/opus"
        codecs = RTCRtpSender.getCapabilities(transceiver.kind).codecs
        transceiver.setCodecPreferences(
            [c for c in codecs if c.mimeType == wanted or c.mimeType.endswith("/rtx")]
        )


__all__ = [
    "CountingQueue",
    "PacketTrack",
    "audio_clip",
    "count_after_impairment",
    "count_frames",
    "default_clips_dir",
    "drain_sockets",
    "keyframe_sizes",
    "packet_audio_track",
    "packet_video_track",
    "prefer_clip_codecs",
    "received_bytes",
    "video_clip",
]
