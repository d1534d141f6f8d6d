from simulator.peers import keyframe_request
from simulator.peers.keyframe_request import KeyframeRequester, video_ssrc


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_inter_frames_before_any_key_frame_ask_for_one_at_most_twice_a_second() -> None:
    clock, sent, keyframe = _Clock(), [], [False]
    requester = KeyframeRequester(lambda: sent.append(clock.now), lambda: keyframe[0], clock)
    for _ in range(20):  # 30 fps for 2/3 s, no key frame
        requester.on_frame()
        clock.now += 1 / 30
    assert len(sent) == 2
    assert sent[0] == 0.0
    assert sent[1] >= 0.5
    keyframe[0] = True
    clock.now += 1.0
    requester.on_frame()
    assert len(sent) == 2


async def test_a_viewer_that_gets_nothing_keeps_asking_until_a_key_frame_comes() -> None:
    clock, sent, keyframe = _Clock(), [], [False]
    requester = KeyframeRequester(lambda: sent.append(clock.now), lambda: keyframe[0], clock)

    async def sleep(seconds: float) -> None:
        clock.now += seconds
        if clock.now > 1.5:
            keyframe[0] = True

    await requester.watch(sleep)
    assert sent == [
        keyframe_request.WAIT_S,
        keyframe_request.WAIT_S + 0.5,
        keyframe_request.WAIT_S + 1.0,
    ]


def test_the_video_ssrc_comes_from_the_offer() -> None:
    sdp = "m=audio 9 X 111\r\na=ssrc:11 cname:a\r\nm=video 9 X 96\r\na=ssrc:22 cname:a\r\n"
    assert video_ssrc(sdp) == 22
    assert video_ssrc("m=audio 9 X 111\r\n") is None
