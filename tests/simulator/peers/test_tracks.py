from simulator.peers.tracks import SweepVideoTrack, ToneAudioTrack


async def test_video_track_makes_frames_of_the_requested_size_with_rising_timestamps() -> None:
    track = SweepVideoTrack(320, 240, fps=60)
    first = await track.recv()
    second = await track.recv()
    assert (first.width, first.height) == (320, 240)
    assert second.pts - first.pts == 90_000 // 60
    assert track.frames_sent == 2


async def test_video_frames_change_over_time_so_the_encoder_has_work() -> None:
    track = SweepVideoTrack(160, 120, fps=60)
    first = bytes((await track.recv()).planes[0])
    second = bytes((await track.recv()).planes[0])
    assert first != second


async def test_audio_track_sends_twenty_millisecond_frames_of_a_non_silent_tone() -> None:
    track = ToneAudioTrack()
    frame = await track.recv()
    assert frame.samples == 960
    assert frame.sample_rate == 48_000
    assert any(bytes(frame.planes[0]))
