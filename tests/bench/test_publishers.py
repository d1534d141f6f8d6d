"""Benchmark 1's publisher kinds: what each one's publishing and receiving processes are told,
and that the worker reads it as a simulcast publisher and a one-layer subscriber."""

from __future__ import annotations

from bench import generator_worker
from bench.publishers import (
    PUBLISHER_KINDS,
    SIMULCAST,
    SINGLE_LAYER,
    publisher_args,
    subscriber_args,
)

COMMON = ["--janus-url", "http://198.18.0.1:8088/janus", "--netns", "cli", "--room", "r"]


def test_benchmark_one_ramps_single_layer_first_then_simulcast() -> None:
    assert PUBLISHER_KINDS == (SINGLE_LAYER, SIMULCAST)


def test_simulcast_publishers_are_told_to_send_three_layers_and_single_layer_ones_are_not() -> None:
    simulcast = generator_worker._parser().parse_args(
        ["publish", *COMMON, *publisher_args(SIMULCAST, 1, 4)]
    )
    single = generator_worker._parser().parse_args(
        ["publish", *COMMON, *publisher_args(SINGLE_LAYER, 1, 4)]
    )
    assert simulcast.simulcast is True
    assert single.simulcast is False
    assert not simulcast.create_room  # only the first process creates the room


def test_the_first_publishing_process_of_a_kind_creates_the_room() -> None:
    args = generator_worker._parser().parse_args(
        ["publish", *COMMON, *publisher_args(SIMULCAST, 0, 4)]
    )
    assert args.create_room
    assert args.room_publishers == 8


def test_simulcast_subscribers_ask_for_the_highest_substream_single_layer_ones_for_none() -> None:
    feeds = ["f0", "f1"]
    simulcast = generator_worker._parser().parse_args(
        ["subscribe", *COMMON, *subscriber_args(SIMULCAST, feeds, "s")]
    )
    single = generator_worker._parser().parse_args(
        ["subscribe", *COMMON, *subscriber_args(SINGLE_LAYER, feeds, "s")]
    )
    assert simulcast.substream == 2
    assert single.substream is None
    assert simulcast.feeds == feeds


def test_the_simulcast_camera_is_the_single_layer_capture_in_three_layers() -> None:
    options = generator_worker.SIMULCAST
    assert (options.width, options.height, options.fps) == (640, 480, 30)
    assert options.simulcast
    assert options.media == "cheap"
