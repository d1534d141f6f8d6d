"""The workers' one command loop: what a subscribing and a publishing worker answer to each
command of the bench, in order, and the per-stream counters a subscriber's snapshot carries."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from types import SimpleNamespace
from typing import Any, TypeVar

import pytest

from bench.worker_loop import Watched, serve_publishers, serve_subscribers, stream_counters

T = TypeVar("T")
VERDICT = {"lag_p95_ms": 1.5, "lag_max_ms": 3.0, "saturated": False, "reasons": []}


class FakeMedia:
    """Runs each coroutine to its end on a loop of its own, as ``NamespaceLoop.run_sync``."""

    def __init__(self) -> None:
        self.timeouts: list[float | None] = []

    def run_sync(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        self.timeouts.append(timeout)
        return asyncio.run(coro)


class FixedWatch(Watched):
    """A window verdict without a watch thread."""

    def roll(self) -> dict[str, Any]:
        return dict(VERDICT)


class FakeStreams:
    """Streams whose connects past ``limit`` fail."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0

    def __len__(self) -> int:
        return self.held

    async def add(self, count: int) -> tuple[int, str]:
        made = min(count, self.limit - self.held)
        self.held += made
        return count - made, "refused" if made < count else ""

    async def remove_last(self, count: int) -> None:
        self.held -= count

    def counters(self) -> dict[str, list[int]]:
        return {"expected": [10] * self.held, "received": [9] * self.held}


def _events(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def _lines(*commands: dict[str, Any]) -> list[str]:
    return [json.dumps(c) + "\n" for c in commands] + ["\n"]  # a blank line is no command


def test_a_subscribing_worker_says_hello_then_answers_each_command_in_order(
    capsys: pytest.CaptureFixture[str],
) -> None:
    media = FakeMedia()
    lines = _lines(
        {"cmd": "add", "count": 3},
        {"cmd": "remove", "count": 1},
        {"cmd": "snapshot"},
    )
    serve_subscribers(FixedWatch("s", media), FakeStreams(limit=2), lines)  # type: ignore[arg-type]

    hello, added, removed, snapshot = _events(capsys)
    assert hello["event"] == "hello"
    assert added == {"event": "added", "streams": 2, "failed": 1, "error": "refused"}
    assert removed == {"event": "removed", "streams": 1}
    assert snapshot["event"] == "snapshot"
    assert (snapshot["expected"], snapshot["received"]) == ([10], [9])
    assert snapshot["lag_p95_ms"] == VERDICT["lag_p95_ms"]
    assert snapshot["cpu_s"] > 0
    assert media.timeouts == [600.0, 300.0]  # add and remove ran on the media loop


def test_a_subscribing_worker_answers_an_unknown_command_with_an_error_and_goes_on(
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines = _lines({"cmd": "dance"}, {"cmd": "add", "count": 1})
    serve_subscribers(FixedWatch("s", FakeMedia()), FakeStreams(limit=5), lines)  # type: ignore[arg-type]

    _hello, error, added = _events(capsys)
    assert error["event"] == "error"
    assert "dance" in error["error"]
    assert added["streams"] == 1


def test_a_publishing_worker_says_ready_with_its_feeds_and_takes_snapshots_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def sent() -> dict[str, list[Any]]:
        return {"frames_sent": [300, 299], "connected": [True, True]}

    lines = _lines({"cmd": "snapshot"}, {"cmd": "add", "count": 1})
    serve_publishers(FixedWatch("p", FakeMedia()), ["f0", "f1"], sent, lines)  # type: ignore[arg-type]

    ready, snapshot, error = _events(capsys)
    assert (ready["event"], ready["feeds"]) == ("ready", ["f0", "f1"])
    assert snapshot["frames_sent"] == [300, 299]
    assert snapshot["connected"] == [True, True]
    assert snapshot["saturated"] is False
    assert error["event"] == "error"
    assert "snapshot only" in error["error"]


def _counter(expected: int, received: int, payload: int, frames: int, video: bool) -> Any:
    return SimpleNamespace(
        max_seq=expected,
        packets_expected=expected,
        packets_received=received,
        payload_bytes=payload,
        frames=frames,
        video=video,
    )


def test_stream_counters_sum_each_streams_receivers_and_count_video_frames_only() -> None:
    video = SimpleNamespace(counters={1: _counter(100, 98, 90_000, 30, video=True)})
    audio = SimpleNamespace(counters={2: _counter(50, 50, 4_000, 50, video=False)})
    silent = _counter(0, 0, 0, 0, video=True)
    silent.max_seq = None  # no packet yet on this SSRC: left out
    quiet = SimpleNamespace(counters={3: silent})

    fields = stream_counters([[video, audio], [quiet]])  # type: ignore[list-item]

    assert fields == {
        "expected": [150, 0],
        "received": [148, 0],
        "bytes": [94_000, 0],
        "video_frames": [30, 0],
    }
