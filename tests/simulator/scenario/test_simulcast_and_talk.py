import pytest
from pydantic import ValidationError

from simulator.scenario.model import PublishStep, Scenario, SetLayerStep, SubscribeStep


def _scenario(publish: dict[str, object], *more: dict[str, object], codec: str = "vp8") -> Scenario:
    return Scenario.model_validate(
        {
            "name": "s",
            "rooms": [{"name": "r", "videocodec": codec, "audio_level_event": True}],
            "participants": [{"name": "a", "room": "r"}, {"name": "b", "room": "r"}],
            "timeline": [
                {"at": 0, "do": "join", "who": "all"},
                {"at": 1, "do": "publish", "who": "a", **publish},
                *more,
            ],
        }
    )


def test_a_publisher_chooses_simulcast_and_a_subscriber_its_layer_then_another() -> None:
    scenario = _scenario(
        {"media": "cheap", "simulcast": True},
        {"at": 2, "do": "subscribe", "who": "b", "to": "a", "substream": 0, "temporal": 1},
        {"at": 5, "do": "set_layer", "who": "b", "to": "a", "substream": 2},
    )
    publish, subscribe, switch = scenario.timeline[1:]
    assert isinstance(publish, PublishStep)
    assert publish.simulcast
    assert isinstance(subscribe, SubscribeStep)
    assert (subscribe.substream, subscribe.temporal) == (
        0,
        1,
    )
    assert isinstance(switch, SetLayerStep)
    assert (switch.substream, switch.temporal) == (2, None)


def test_a_layer_change_must_name_a_layer_in_range() -> None:
    with pytest.raises(ValidationError, match="set_layer needs"):
        _scenario({"simulcast": True}, {"at": 2, "do": "set_layer", "who": "b", "to": "a"})
    with pytest.raises(ValidationError, match="less than or equal to 2"):
        _scenario(
            {"simulcast": True}, {"at": 2, "do": "subscribe", "who": "b", "to": "a", "substream": 3}
        )


def test_simulcast_needs_video_and_a_vp8_room() -> None:
    with pytest.raises(ValidationError, match="simulcast needs video"):
        _scenario({"simulcast": True, "video": None})
    with pytest.raises(ValidationError, match="simulcast sends VP8 layers"):
        _scenario({"simulcast": True}, codec="h264")


def test_talk_spurts_come_on_a_pattern_or_at_random_and_need_audio() -> None:
    patterned = _scenario({"talk": {"pattern": [2, 1]}}).timeline[1]
    assert isinstance(patterned, PublishStep)
    assert patterned.talk is not None
    assert patterned.talk.pattern == [2, 1]
    drawn = _scenario({"talk": {"speak_mean_s": 3, "seed": 4}}).timeline[1]
    assert isinstance(drawn, PublishStep)
    assert drawn.talk is not None
    assert drawn.talk.seed == 4
    with pytest.raises(ValidationError, match="talk spurts need audio"):
        _scenario({"talk": {}, "audio": False})
    with pytest.raises(ValidationError, match="positive"):
        _scenario({"talk": {"pattern": [1, 0]}})
