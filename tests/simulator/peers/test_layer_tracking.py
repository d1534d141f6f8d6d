from simulator.peers.layer_tracking import SETTLE_S, LayerTracker


class _Clock:
    def __init__(self) -> None:
        self.ms = 1_000_000

    def __call__(self) -> int:
        return self.ms


def _event(**fields: int) -> dict[str, object]:
    return {"janus": "event", "plugindata": {"data": {"videoroom": "event", **fields}}}


def test_janus_events_open_periods_that_count_what_arrives_on_each_layer() -> None:
    clock = _Clock()
    tracker = LayerTracker(clock)
    tracker.request(2, None)
    tracker.on_frame(100)  # before Janus relays anything: no period
    tracker.on_handle_event(_event(substream=2))
    tracker.on_handle_event(_event(temporal=2))  # the same switch, reported apart
    tracker.on_keyframe(1280, 720)
    for _ in range(60):
        clock.ms += 33
        tracker.on_frame(6000)
    clock.ms += 500
    tracker.request(1, None)
    tracker.on_keyframe(640, 360)  # the key frame comes before Janus's event
    tracker.on_frame(2000)
    tracker.on_handle_event(_event(substream=1))
    for _ in range(10):
        clock.ms += 33
        tracker.on_frame(2000)
    tracker.close()
    first, second = tracker.periods
    assert (first.substream, first.temporal, first.size) == (2, 2, (1280, 720))
    assert first.frames == 61
    assert first.bytes == 60 * 6000 + 2000
    assert first.settled_from_ms == first.from_ms + SETTLE_S * 1000
    assert 0 < first.settled_frames < first.frames
    assert first.requested_ms is not None
    assert second.requested_ms == first.to_ms - 0
    assert (second.substream, second.temporal, second.size) == (1, 2, (640, 360))
    assert second.frames == 10
    assert second.to_ms == clock.ms


def test_a_configure_for_the_layer_already_relayed_opens_no_new_period() -> None:
    tracker = LayerTracker(_Clock())
    tracker.on_handle_event(_event(substream=0))
    tracker.on_handle_event(_event(substream=0))
    tracker.on_handle_event({"janus": "webrtcup"})
    assert len(tracker.periods) == 1


def test_a_key_frame_of_another_layers_size_opens_a_period_where_the_server_says_nothing() -> None:
    clock = _Clock()
    tracker = LayerTracker(clock)
    tracker.by_size = {(320, 180): 0, (640, 360): 1, (1280, 720): 2}
    tracker.request(2, None)
    tracker.on_keyframe(1280, 720)
    for _ in range(60):
        clock.ms += 33
        tracker.on_frame(6000)
    tracker.on_keyframe(1280, 720)  # the same layer again: still one period
    clock.ms += 2000
    tracker.request(1, None)
    clock.ms += 300
    tracker.on_keyframe(640, 360)
    tracker.on_frame(2000)
    tracker.on_keyframe(800, 600)  # a size no layer has: no switch
    tracker.close()
    first, second = tracker.periods
    assert (first.substream, first.temporal, first.keyframes, first.frames) == (2, None, 2, 60)
    assert (second.substream, second.size, second.frames) == (1, (640, 360), 1)
    assert second.requested_ms == second.from_ms - 300
