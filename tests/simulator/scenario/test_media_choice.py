import pytest
from pydantic import ValidationError

from simulator.scenario.model import PublishStep, Scenario, SubscribeStep


def _scenario(videocodec: str, media: str) -> Scenario:
    return Scenario.model_validate(
        {
            "name": "m",
            "rooms": [{"name": "r", "videocodec": videocodec}],
            "participants": [{"name": "a", "room": "r"}, {"name": "b", "room": "r"}],
            "timeline": [
                {"at": 0, "do": "join", "who": "all"},
                {"at": 1, "do": "publish", "who": "a", "media": media},
                {"at": 2, "do": "subscribe", "who": "b", "to": "a", "media": media},
            ],
        }
    )


def test_media_is_live_unless_the_step_says_cheap() -> None:
    live = _scenario("vp8", "live")
    assert [getattr(s, "media", None) for s in live.timeline] == [None, "live", "live"]
    publish = PublishStep.model_validate({"at": 0, "do": "publish", "who": "a"})
    subscribe = SubscribeStep.model_validate({"at": 0, "do": "subscribe", "who": "a", "to": "b"})
    assert (publish.media, subscribe.media) == ("live", "live")
    cheap = _scenario("vp8", "cheap")
    assert [getattr(s, "media", None) for s in cheap.timeline] == [None, "cheap", "cheap"]


def test_an_unknown_media_choice_is_rejected() -> None:
    with pytest.raises(ValidationError, match="live"):
        _scenario("vp8", "free")


def test_a_cheap_video_publisher_in_an_h264_room_is_rejected() -> None:
    with pytest.raises(ValidationError, match="pre-encoded VP8"):
        _scenario("h264", "cheap")
