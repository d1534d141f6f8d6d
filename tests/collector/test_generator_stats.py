"""``POST /generator-stats``: the generator's own samples become ``generatorStats`` documents."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from collector.app import COLLECTOR, create_app
from collector.clock import FixedClock
from collector.settings import CollectorSettings
from collector.store import MemoryStore

TOKEN = "t0ken"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SAMPLE: dict[str, Any] = {
    "timestamp": 1_795_880_400_000,
    "runId": "20261128-120000-abcd",
    "process": "run-4242",
    "pid": 4242,
    "hostname": "loadgen-1",
    "loopLagP50Ms": 1.2,
    "loopLagP95Ms": 4.5,
    "loopLagMaxMs": 31.0,
    "cpuCores": 0.42,
    "rssKb": 181_000,
    "saturated": False,
}


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
async def client(store: MemoryStore) -> AsyncIterator[TestClient[Any, Any]]:
    settings = CollectorSettings(
        store="memory", token=TOKEN, webrtc_stats_interval_s=0, monitoring_interval_s=0
    )
    async with TestClient(TestServer(create_app(settings, store, FixedClock()))) as c:
        yield c


async def test_a_generator_sample_becomes_one_generatorStats_document(
    client: TestClient[Any, Any], store: MemoryStore
) -> None:
    resp = await client.post("/generator-stats", json=SAMPLE, headers=AUTH)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["documents"] == 1
    await client.app[COLLECTOR].writer.flush()
    [doc] = await store.search({"elastic_type": "generatorStats"})
    assert doc["rtcsim_run_id"] == SAMPLE["runId"]
    assert doc["process"] == "run-4242"
    assert doc["pid"] == 4242
    assert doc["loopLagMaxMs"] == 31.0
    assert doc["cpuCores"] == 0.42
    assert doc["saturated"] is False


async def test_the_same_sample_posted_twice_is_one_document(
    client: TestClient[Any, Any], store: MemoryStore
) -> None:
    for _ in range(2):
        await client.post("/generator-stats", json=[SAMPLE], headers=AUTH)
    await client.app[COLLECTOR].writer.flush()
    assert await store.count({"elastic_type": "generatorStats"}) == 1


async def test_generator_stats_need_the_bearer_token(client: TestClient[Any, Any]) -> None:
    assert (await client.post("/generator-stats", json=SAMPLE)).status == 401


@pytest.mark.parametrize(
    ("field", "value"),
    [("cpuCores", -1), ("pid", "x"), ("saturated", "maybe"), ("process", ""), ("extra", 1)],
)
async def test_a_bad_generator_sample_is_400_naming_the_field(
    client: TestClient[Any, Any], field: str, value: object
) -> None:
    resp = await client.post("/generator-stats", json={**SAMPLE, field: value}, headers=AUTH)
    assert resp.status == 400
    assert field in (await resp.json())["error"]


async def test_a_sample_without_its_lag_is_400_naming_the_field(
    client: TestClient[Any, Any],
) -> None:
    body = {k: v for k, v in SAMPLE.items() if k != "loopLagMaxMs"}
    resp = await client.post("/generator-stats", json=body, headers=AUTH)
    assert resp.status == 400
    assert "loopLagMaxMs" in (await resp.json())["error"]
