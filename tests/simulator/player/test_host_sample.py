"""The runner's start and end samples: asked of the collector's ``/monitoring-sample``, their
timestamps kept in the ledger; a collector that cannot sample leaves the ledger without one."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from collector.app import create_app
from collector.clock import FixedClock
from collector.settings import CollectorSettings
from collector.store import MemoryStore
from simulator.collector_client import CollectorClient
from simulator.ledger import Ledger
from simulator.player.host_sample import take_host_sample
from tests.collector.app.test_sample_route import CountingProbe

TOKEN = "t0ken"


def collector_settings() -> CollectorSettings:
    return CollectorSettings(
        store="memory", token=TOKEN, webrtc_stats_interval_s=0, monitoring_interval_s=0
    )


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_the_start_and_end_samples_are_kept_in_the_ledger_by_timestamp(
    http: aiohttp.ClientSession,
) -> None:
    clock = FixedClock(5_000)
    app = create_app(collector_settings(), MemoryStore(), clock, CountingProbe())
    ledger = Ledger(run_id="r1", scenario="s", seed=1, started_ms=4_000)
    async with TestServer(app) as server:
        client = CollectorClient(http, str(server.make_url("")), TOKEN)
        assert await take_host_sample(client, ledger, "start")
        clock.advance(3_000)
        assert await take_host_sample(client, ledger, "end")
        assert await take_host_sample(client, ledger, "end")  # the same instant: one sample
    assert ledger.host_samples_ms == [5_000, 8_000]


@pytest.mark.parametrize(("probe", "token"), [(None, TOKEN), (CountingProbe(), "wrong")])
async def test_a_collector_that_cannot_sample_leaves_the_ledger_without_one(
    http: aiohttp.ClientSession, probe: CountingProbe | None, token: str
) -> None:
    app = create_app(collector_settings(), MemoryStore(), FixedClock(), probe)
    ledger = Ledger(run_id="r1", scenario="s", seed=1, started_ms=0)
    async with TestServer(app) as server:
        client = CollectorClient(http, str(server.make_url("")), token, retry_delays_s=())
        assert not await take_host_sample(client, ledger, "start")
    assert ledger.host_samples_ms == []
