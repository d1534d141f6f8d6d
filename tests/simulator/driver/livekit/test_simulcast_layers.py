from livekit.protocol import models

from simulator.driver.livekit.link import layer_sizes, track_stream


def _video(*layers: tuple[int, int, int, str]) -> models.TrackInfo:
    return models.TrackInfo(
        sid="TR_v",
        type=models.TrackType.VIDEO,
        mid="1",
        layers=[
            models.VideoLayer(quality=q, width=w, height=h, rid=rid) for q, w, h, rid in layers
        ],
    )


THREE = (
    (models.VideoQuality.LOW, 320, 180, "q"),
    (models.VideoQuality.MEDIUM, 640, 360, "h"),
    (models.VideoQuality.HIGH, 1280, 720, "f"),
)


def test_a_video_track_with_three_layers_is_taken_as_simulcast_lowest_layer_first() -> None:
    stream = track_stream(_video(*reversed(THREE)))
    assert stream["simulcast"] is True
    assert [(x["substream"], x["rid"]) for x in stream["layers"]] == [(0, "q"), (1, "h"), (2, "f")]


def test_a_video_track_with_one_layer_is_not_simulcast() -> None:
    assert track_stream(_video(THREE[2]))["simulcast"] is False


def test_each_layers_picture_size_names_its_substream() -> None:
    info = models.ParticipantInfo(identity="cam", tracks=[_video(*THREE)])
    assert layer_sizes(info) == {(320, 180): 0, (640, 360): 1, (1280, 720): 2}
