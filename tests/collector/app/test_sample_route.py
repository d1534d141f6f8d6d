"""``POST /monitoring-sample``: a monitoringStats on demand, authenticated, refused when off."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from collector.app import COLLECTOR, create_app
from collector.clock import FixedClock
from collector.documents import MemoryUsage, MonitoringStats
from collector.settings import CollectorSettings
from collector.store import MemoryStore

TOKEN = "t0ken"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class CountingProbe:
    """A host probe whose samples are numbered by their cpu figure."""

    def __init__(self, fail: bool = False) -> None:
        self.samples = 0
        self.fail = fail

    def sample(self, now_ms: int) -> MonitoringStats:
        if self.fail:
            raise OSError("no /proc")
        self.samples += 1
        return MonitoringStats(
            timestamp=now_ms,
            cpu=float(self.samples),
            mem=MemoryUsage(used=1, percentage=1.0),
            net={},
        )


def settings() -> CollectorSettings:
    return CollectorSettings(
        store="memory", token=TOKEN, webrtc_stats_interval_s=0, monitoring_interval_s=0
    )


async def serve(
    store: MemoryStore, clock: FixedClock, probe: CountingProbe | None
) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(create_app(settings(), store, clock, probe))) as c:
        yield c


@pytest.fixture
async def client() -> AsyncIterator[TestClient[Any, Any]]:
    async for c in serve(MemoryStore(), FixedClock(), CountingProbe()):
        yield c


async def test_a_sample_on_demand_is_written_with_the_collectors_time(
    client: TestClient[Any, Any],
) -> None:
    c = client.app[COLLECTOR]
    assert isinstance(c.clock, FixedClock)
    first = await client.post("/monitoring-sample", headers=AUTH)
    c.clock.advance(1500)
    second = await client.post("/monitoring-sample", headers=AUTH)
    assert first.status == second.status == 200
    body = await second.json()
    assert body == {"ok": True, "documents": 1, "timestamp": c.clock.now_ms()}
    await c.writer.flush()
    stored = await c.store.count({"elastic_type": "monitoringStats"})
    assert stored == 2


async def test_a_sample_without_the_token_is_refused_and_nothing_is_written(
    client: TestClient[Any, Any],
) -> None:
    c = client.app[COLLECTOR]
    resp = await client.post("/monitoring-sample", headers={"Authorization": "Bearer wrong"})
    assert resp.status == 401
    await c.writer.flush()
    assert await c.store.count({"elastic_type": "monitoringStats"}) == 0
    assert c.counters.api_rejected["/monitoring-sample"] == 1


async def test_a_sample_with_monitoring_off_is_409_saying_so() -> None:
    async for c in serve(MemoryStore(), FixedClock(), None):
        resp = await c.post("/monitoring-sample", headers=AUTH)
        assert resp.status == 409
        assert "monitoring is off" in (await resp.json())["error"]


async def test_a_failing_probe_is_500_and_counted() -> None:
    async for c in serve(MemoryStore(), FixedClock(), CountingProbe(fail=True)):
        resp = await c.post("/monitoring-sample", headers=AUTH)
        assert resp.status == 500
        assert "no /proc" in (await resp.json())["error"]
        assert c.app[COLLECTOR].counters.probe_errors == 1
