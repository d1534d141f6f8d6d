from pathlib import Path

from simulator.peers import clips, vp8
from simulator.peers.simulcast.layers import Layer
from simulator.peers.simulcast.sources import ClipLayerSource, EncoderLayerSource


def test_a_clip_layer_answers_a_keyframe_request_on_its_next_frame(tmp_path: Path) -> None:
    now = [0.0]
    frames = clips.video_clip(tmp_path, 64, 48, 10, 60_000, temporal_layers=True)
    source = ClipLayerSource(frames, clock=lambda: now[0])
    sent = [source.next_frame(False) for _ in range(6)]
    assert [tid for _, tid, _ in sent] == [0, 2, 1, 2, 0, 2]
    assert [sync for _, _, sync in sent] == [True, True, True, False, True, True]
    source.request_keyframe()
    now[0] += 0.05
    frame, tid, _ = source.next_frame(False)
    assert vp8.is_keyframe(frame)
    assert tid == 0
    assert source.keyframe_requests == 1
    assert source.keyframe_answer_max_s == 0.05
    assert source.keyframe_answer_max_frames == 0


def test_a_live_layer_encodes_its_size_and_forces_a_keyframe_when_asked() -> None:
    source = EncoderLayerSource(Layer("l", 0, 64, 48, 10, 50_000))
    first, tid, _ = source.next_frame(False)
    assert vp8.keyframe_size(first) == (64, 48)
    assert tid == 0
    later = [source.next_frame(False) for _ in range(5)]
    assert not any(vp8.is_keyframe(frame) for frame, _, _ in later)
    assert [tid for _, tid, _ in later] == [2, 1, 2, 0, 2]
    source.request_keyframe()
    frame, tid, _ = source.next_frame(muted=True)
    assert vp8.is_keyframe(frame)
    assert tid == 0
