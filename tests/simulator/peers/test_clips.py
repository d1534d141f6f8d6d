from pathlib import Path

import av

from simulator.peers import clips, vp8
from simulator.peers.simulcast.layers import temporal_id


def _decoded(frames: tuple[bytes, ...], keep: set[int]) -> dict[int, bytes]:
    decoder = av.CodecContext.create("libvpx", "r")
    pictures = {}
    for index, frame in enumerate(frames):
        if index in keep:
            for picture in decoder.decode(av.Packet(frame)):
                pictures[index] = bytes(picture.planes[0])
    return pictures


def test_a_simulcast_clip_decodes_the_same_with_its_upper_temporal_layers_dropped(
    tmp_path: Path,
) -> None:
    frames = clips.video_clip(tmp_path, 64, 48, 10, 60_000, temporal_layers=True)
    assert clips.keyframe_indices(frames) == (0,)
    everything = _decoded(frames, set(range(len(frames))))
    for cap in (0, 1):
        kept = {i for i in range(len(frames)) if temporal_id(i) <= cap}
        thinned = _decoded(frames, kept)
        # What a subscriber capped at a temporal layer decodes is what everyone else sees.
        assert thinned == {i: everything[i] for i in kept}


def test_a_clip_made_for_a_bitrate_comes_close_to_it(tmp_path: Path) -> None:
    frames = clips.video_clip(tmp_path, 160, 120, 15, 120_000, temporal_layers=True)
    rate = clips.clip_bitrate_bps(frames, 15)
    assert abs(rate - 120_000) <= 0.2 * 120_000, rate
    assert vp8.keyframe_size(frames[0]) == (160, 120)
