from simulator.peers.simulcast.layers import browser_layers, temporal_fps, temporal_id


def test_720p_simulcast_has_a_browsers_three_layers_highest_first() -> None:
    layers = browser_layers(1280, 720, 30)
    assert [(x.rid, x.substream, x.size, x.bitrate_bps) for x in layers] == [
        ("h", 2, "1280x720", 1_500_000),
        ("m", 1, "640x360", 500_000),
        ("l", 0, "320x180", 150_000),
    ]


def test_smaller_captures_scale_the_bitrates_by_their_pixels() -> None:
    layers = browser_layers(640, 360, 15)
    assert [x.size for x in layers] == ["640x360", "320x180", "160x90"]
    assert [x.bitrate_bps for x in layers] == [375_000, 125_000, 37_500]
    assert {x.fps for x in layers} == {15}


def test_temporal_layers_follow_the_0_2_1_2_pattern() -> None:
    assert [temporal_id(i) for i in range(8)] == [0, 2, 1, 2, 0, 2, 1, 2]
    assert [temporal_fps(30, t) for t in (0, 1, 2)] == [7.5, 15.0, 30.0]
