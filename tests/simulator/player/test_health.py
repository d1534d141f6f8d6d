"""The media-server watcher: a Janus that misses probes in a row is declared lost, with when."""

from __future__ import annotations

import aiohttp

from simulator.player.health import JanusWatcher

URL = "http://198.18.0.1:8088/janus"


class Script:
    """A probe that answers or fails as scripted, and a sleep and wall clock that never wait."""

    def __init__(self, answers: list[bool]) -> None:
        self.answers = answers
        self.now_ms = 1_000_000

    async def probe(self) -> None:
        ok = self.answers.pop(0)
        if not ok:
            raise aiohttp.ClientConnectionError("Connection refused")

    async def sleep(self, seconds: float) -> None:
        self.now_ms += int(seconds * 1000)

    def wall_ms(self) -> int:
        return self.now_ms


async def test_two_missed_probes_in_a_row_declare_janus_lost_at_the_first_miss() -> None:
    script = Script([True, True, False, False])
    watcher = JanusWatcher(script.probe, URL, sleep=script.sleep, wall_ms=script.wall_ms)
    lost = await watcher.watch(started_ms=1_000_000)
    assert lost.at_ms == 1_003_000
    assert lost.at_s == 3.0
    assert lost.message == (
        f"Janus at {URL} stopped answering at t=3.0s (ClientConnectionError: Connection refused)"
    )


async def test_a_single_missed_probe_is_forgiven() -> None:
    script = Script([False, True, True, False, False])
    watcher = JanusWatcher(script.probe, URL, sleep=script.sleep, wall_ms=script.wall_ms)
    lost = await watcher.watch(started_ms=1_000_000)
    assert lost.at_s == 4.0
