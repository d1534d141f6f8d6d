"""The command lines the bench starts its workers with: each server's worker reads what the bench
passes it, for publishers and subscribers alike."""

from __future__ import annotations

from pathlib import Path

from bench import generator_worker, server_worker
from bench.publishers import SIMULCAST, SINGLE_LAYER, publisher_args, subscriber_args
from bench.workers import worker_command
from simulator.settings import Settings

SETTINGS = Settings(client_netns="cli", cache_dir=Path("/cache"))


def test_janus_subscribers_are_started_as_the_janus_worker_with_its_url_and_namespace() -> None:
    extra = subscriber_args(SIMULCAST, ["f0", "f1"], "s")
    command = worker_command(SETTINGS, "janus", "subscribe", "room1", *extra)

    assert command[1:3] == ["-m", "bench.generator_worker"]
    args = generator_worker._parser().parse_args(command[3:])
    assert (args.role, args.room, args.label) == ("subscribe", "room1", "s")
    assert args.janus_url == SETTINGS.janus_url
    assert args.netns == "cli"
    assert args.clips == Path("/cache/clips")
    assert args.feeds == ["f0", "f1"]
    assert args.substream == 2


def test_publishers_on_another_server_are_started_as_the_server_worker_naming_it() -> None:
    extra = publisher_args(SINGLE_LAYER, 0, 4)
    command = worker_command(SETTINGS, "livekit", "publish", "room1", *extra)

    assert command[1:3] == ["-m", "bench.server_worker"]
    args = server_worker._parser().parse_args(command[3:])
    assert (args.role, args.server, args.room) == ("publish", "livekit", "room1")
    assert args.create_room
    assert (args.publishers, args.bitrate, args.room_publishers) == (2, 1_000_000, 8)
    assert args.clips == Path("/cache/clips")
