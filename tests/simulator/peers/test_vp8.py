import itertools
import random
from pathlib import Path

from aiortc.codecs.vpx import VpxPayloadDescriptor

from simulator.peers import clips, vp8


def test_a_frame_is_split_into_payloads_that_carry_its_temporal_layer() -> None:
    packetizer = vp8.Vp8Packetizer(random.Random(1))
    frame = b"\x01" + bytes(3000)  # an inter frame (P bit set)
    payloads = packetizer.packetize(frame, 2, layer_sync=False)
    assert len(payloads) == 3
    assert all(len(p) <= vp8.PACKET_MAX for p in payloads)
    descriptors = [VpxPayloadDescriptor.parse(p) for p in payloads]
    assert [d.partition_start for d, _ in descriptors] == [1, 0, 0]
    assert {d.tid for d, _ in descriptors} == {(2, 0)}
    assert b"".join(data for _, data in descriptors) == frame


def test_tl0picidx_counts_base_layer_frames_and_picture_ids_every_frame() -> None:
    packetizer = vp8.Vp8Packetizer(random.Random(2))
    seen = []
    for tid in (0, 2, 1, 2, 0):
        descriptor, _ = VpxPayloadDescriptor.parse(packetizer.packetize(b"\x01xx", tid)[0])
        seen.append((descriptor.picture_id, descriptor.tl0picidx))
    pictures = [p for p, _ in seen]
    assert [(b - a) % (1 << 15) for a, b in itertools.pairwise(pictures)] == [1] * 4
    tl0 = [t for _, t in seen]
    assert tl0[1] == tl0[2] == tl0[3] == tl0[0]
    assert tl0[4] == (tl0[0] + 1) % 256


def test_a_key_frame_is_always_temporal_layer_zero() -> None:
    descriptor, _ = VpxPayloadDescriptor.parse(vp8.Vp8Packetizer().packetize(b"\x00kf", 2)[0])
    assert descriptor.tid == (0, 1)


def test_a_subscriber_reads_the_size_of_a_key_frame_from_its_first_packet(tmp_path: Path) -> None:
    frames = clips.video_clip(tmp_path, 96, 64, 10)
    first = vp8.Vp8Packetizer().packetize(frames[0], 0)
    assert vp8.payload_keyframe_size(first[0]) == (96, 64)
    assert vp8.payload_keyframe_size(vp8.Vp8Packetizer().packetize(frames[1], 2)[0]) is None
    if len(first) > 1:
        assert vp8.payload_keyframe_size(first[1]) is None  # not the start of a frame
    assert vp8.keyframe_size(frames[0]) == (96, 64)
    assert vp8.is_keyframe(frames[0])
    assert not vp8.is_keyframe(frames[1])


def test_descriptor_length_matches_what_aiortc_parses() -> None:
    for descriptor in (
        VpxPayloadDescriptor(1, 0),
        VpxPayloadDescriptor(1, 0, picture_id=5),
        VpxPayloadDescriptor(1, 0, picture_id=300, tl0picidx=7, tid=(1, 1)),
        VpxPayloadDescriptor(0, 0, picture_id=300, tid=(2, 0), keyidx=3),
    ):
        payload = bytes(descriptor) + b"frame"
        _, rest = VpxPayloadDescriptor.parse(payload)
        assert payload[vp8.descriptor_length(payload) :] == rest == b"frame"
