"""VP8 over RTP as simulcast needs it: payload descriptors with temporal layers, key frames.

aiortc's own VP8 packetizer writes a picture id only. A simulcast publisher also needs the
TL0PICIDX and TID/Y fields (RFC 7741 §4.2), because Janus drops the temporal layers a subscriber
did not ask for by the TID and rewrites picture ids and TL0PICIDX when it switches a subscriber
between layers. The descriptor's wire format is aiortc's ``VpxPayloadDescriptor``.

Receivers use the other half: whether a frame is a key frame, and its size, read from the
uncompressed header of a key frame (RFC 6386 §9.1: a 3-byte frame tag whose lowest bit is 0 for
a key frame, the start code 9d 01 2a, then 14-bit width and height). That is how a subscriber
that never decodes still knows the resolution of the layer it gets.
"""

from __future__ import annotations

import random

from aiortc.codecs.vpx import VpxPayloadDescriptor

PACKET_MAX = 1300
TEMPORAL_PATTERN = (0, 2, 1, 2)
"""VP8 temporal layers (RFC 7741 §4.2 TID) frame by frame, repeating: libvpx's
``ts_layering_mode=3``, as Chrome sends with simulcast (``peers.simulcast.layers``). Here, not
there, because the clips are encoded with it and the simulcast sources read the clips."""
TEMPORAL_LAYERS = 3
TEMPORAL_SHARES = (0.4, 0.6, 1.0)
"""Cumulative share of a layer's bitrate up to each temporal layer."""
START_CODE = b"\x9d\x01\x2a"


def is_keyframe(frame: bytes) -> bool:
    return bool(frame) and not frame[0] & 1


def keyframe_size(frame: bytes) -> tuple[int, int] | None:
    """(width, height) of a VP8 key frame; None for an inter frame or a truncated one."""
    if len(frame) < 10 or frame[0] & 1 or frame[3:6] != START_CODE:
        return None
    width = (frame[6] | frame[7] << 8) & 0x3FFF
    height = (frame[8] | frame[9] << 8) & 0x3FFF
    return width, height


def descriptor_length(payload: bytes) -> int:
    """Bytes of the RFC 7741 payload descriptor at the start of an RTP payload."""
    if not payload:
        return 0
    if not payload[0] & 0x80:
        return 1
    if len(payload) < 2:
        return len(payload)
    ext = payload[1]
    length = 2
    if ext & 0x80:  # I: picture id, 7 or 15 bits
        length += 2 if len(payload) > length and payload[length] & 0x80 else 1
    if ext & 0x40:  # L: TL0PICIDX
        length += 1
    if ext & 0x30:  # T or K: one byte holds TID/Y and KEYIDX
        length += 1
    return length


def payload_keyframe_size(payload: bytes) -> tuple[int, int] | None:
    """The key frame size if this RTP payload starts a VP8 key frame (S=1, PID=0)."""
    if not payload or payload[0] & 0x17 != 0x10:  # S bit set, partition 0
        return None
    return keyframe_size(payload[descriptor_length(payload) :])


class Vp8Packetizer:
    """Splits VP8 frames into RTP payloads with picture id, TL0PICIDX and TID, one stream."""

    def __init__(self, rng: random.Random | None = None) -> None:
        rng = rng or random.Random()
        self.picture_id = rng.randrange(1 << 15)
        self.tl0picidx = rng.randrange(1 << 8)

    def packetize(self, frame: bytes, tid: int, *, layer_sync: bool = True) -> list[bytes]:
        """Payloads for one frame. A key frame is always temporal layer 0: every later frame
        of every temporal layer may refer to it."""
        if is_keyframe(frame):
            tid, layer_sync = 0, True
        if tid == 0:
            self.tl0picidx = (self.tl0picidx + 1) % (1 << 8)
        descriptor = VpxPayloadDescriptor(
            partition_start=1,
            partition_id=0,
            picture_id=self.picture_id,
            tl0picidx=self.tl0picidx,
            tid=(tid, int(layer_sync)),
        )
        self.picture_id = (self.picture_id + 1) % (1 << 15)
        payloads: list[bytes] = []
        position = 0
        while position < len(frame) or not payloads:
            head = bytes(descriptor)
            size = PACKET_MAX - len(head)
            payloads.append(head + frame[position : position + size])
            position += size
            descriptor.partition_start = 0
        return payloads
