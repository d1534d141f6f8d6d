"""A ``layers`` aggregation answer (``queries.layer_bitrate``) of one simulcast publisher: two
layers sampled at 10 s and 30 s, its publication begun at 0."""

from __future__ import annotations


def _layer_bucket(key: int, at: int | None, nbytes: int | None) -> dict[str, object]:
    if at is None:
        return {"key": key, "doc_count": 0, "at": {"value": None}, "bytes": {"value": None}}
    return {"key": key, "doc_count": 1, "at": {"value": at}, "bytes": {"value": nbytes}}


SIMULCAST_LAYERS = {
    "layers": {
        "doc_count": 5,
        "endpoints": {
            "buckets": [
                {
                    "key": "cam_CAMERA_ABCDE",
                    "doc_count": 5,
                    "layer": {
                        "buckets": [
                            # Janus's order is by count; the panel lists layers lowest first.
                            {
                                "key": 2,
                                "doc_count": 3,
                                "t": {
                                    "buckets": [
                                        _layer_bucket(0, 10_000, 1_875_000),  # 1.5 Mbit/s
                                        _layer_bucket(10_000, None, None),
                                        _layer_bucket(20_000, 30_000, 5_625_000),
                                    ]
                                },
                            },
                            {
                                "key": 0,
                                "doc_count": 2,
                                "t": {
                                    "buckets": [
                                        _layer_bucket(0, 10_000, 187_500),  # 150 kbit/s
                                        _layer_bucket(10_000, None, None),
                                        _layer_bucket(20_000, 30_000, 562_500),
                                    ]
                                },
                            },
                        ]
                    },
                }
            ]
        },
    },
    "starts": {
        "streams": {"buckets": [{"key": "cam_CAMERA_ABCDE", "start": {"value": 0}}]},
    },
}
