"""The HTTP application: Janus batches, simulator routes, auth, limits and counters."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from collector.app import COLLECTOR, create_app
from collector.clock import FixedClock
from collector.settings import CollectorSettings
from collector.store import MemoryStore, WriteResult
from tests.collector.janus_sequences import Janus, sample
from tests.collector.model_helpers import ROOM, RUN

TOKEN = "t0ken"


def settings(**overrides: Any) -> CollectorSettings:
    base: dict[str, Any] = {
        "store": "memory",
        "token": TOKEN,
        "webrtc_stats_interval_s": 0,
        "monitoring_interval_s": 0,
        "max_body_bytes": 64 * 1024,
    }
    return CollectorSettings(**{**base, **overrides})


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
async def client(store: MemoryStore) -> AsyncIterator[TestClient[Any, Any]]:
    app = create_app(settings(), store, FixedClock())
    async with TestClient(TestServer(app)) as c:
        yield c


AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def flush(client: TestClient[Any, Any]) -> None:
    await client.app[COLLECTOR].writer.flush()


async def test_a_batch_of_valid_events_is_accepted_and_written(
    client: TestClient[Any, Any], store: MemoryStore
) -> None:
    await client.post("/sessions", json={"sessionId": ROOM, "runId": RUN}, headers=AUTH)
    j = Janus()
    j.create_room(ROOM, 0)
    j.join("alice", ROOM, 10)
    j.transport_request(11)
    resp = await client.post("/events", json=j.events)
    assert resp.status == 200
    assert await resp.json() == {"accepted": len(j.events) - 1, "dropped": 1}
    await flush(client)
    assert await store.count({"event": "participantJoined", "rtcsim_run_id": RUN}) == 1


async def test_a_single_event_object_is_accepted(client: TestClient[Any, Any]) -> None:
    resp = await client.post("/events", json=sample("session_created"))
    assert resp.status == 200


async def test_malformed_events_get_400_naming_each_bad_index_and_valid_ones_still_count(
    client: TestClient[Any, Any], store: MemoryStore
) -> None:
    j = Janus()
    j.create_room(ROOM, 0)
    no_type = sample("session_created")
    del no_type["type"]
    batch = [j.events[0], "not an event", no_type, {**sample("session_created"), "type": 4096}]
    batch += j.events[1:]
    resp = await client.post("/events", json=batch)
    assert resp.status == 400
    body = await resp.json()
    assert [r["index"] for r in body["rejected"]] == [1, 2, 3]
    assert "JSON object" in body["rejected"][0]["error"]
    assert body["rejected"][1]["error"].startswith("type:")
    assert "unknown event type 4096" in body["rejected"][2]["error"]
    assert body["accepted"] == len(j.events)
    await flush(client)
    assert await store.count({"event": "sessionCreated"}) == 1
    stats = await (await client.get("/stats")).json()
    assert stats["events"]["rejected"] == {"None": 2, "4096": 1}


async def test_invalid_json_is_400(client: TestClient[Any, Any]) -> None:
    resp = await client.post("/events", data=b"{not json")
    assert resp.status == 400
    assert "invalid JSON" in (await resp.json())["error"]


async def test_a_body_over_the_limit_is_413(client: TestClient[Any, Any]) -> None:
    resp = await client.post("/events", data=b"[" + b" " * (70 * 1024) + b"]")
    assert resp.status == 413


async def test_simulator_routes_need_the_bearer_token(client: TestClient[Any, Any]) -> None:
    resp = await client.post("/sessions", json={"sessionId": ROOM})
    assert resp.status == 401
    resp = await client.post("/sessions", json={"sessionId": ROOM}, headers=AUTH)
    assert resp.status == 200


async def test_events_need_basic_auth_when_configured(store: MemoryStore) -> None:
    app = create_app(settings(events_user="janus", events_password="pw"), store, FixedClock())
    async with TestClient(TestServer(app)) as c:
        assert (await c.post("/events", json=sample("session_created"))).status == 401
        good = base64.b64encode(b"janus:pw").decode()
        resp = await c.post(
            "/events", json=sample("session_created"), headers={"Authorization": f"Basic {good}"}
        )
        assert resp.status == 200


async def test_invalid_identity_is_400_with_the_field(client: TestClient[Any, Any]) -> None:
    resp = await client.post("/identities", json={"connectionId": "c1"}, headers=AUTH)
    assert resp.status == 400
    assert "user" in (await resp.json())["error"]


async def test_signal_for_an_unknown_session_is_404(client: TestClient[Any, Any]) -> None:
    resp = await client.post("/signals", json={"sessionId": "nope", "to": []}, headers=AUTH)
    assert resp.status == 404


async def test_signal_becomes_signalSent_with_null_from(
    client: TestClient[Any, Any], store: MemoryStore
) -> None:
    j = Janus()
    j.create_room(ROOM, 0)
    await client.post("/events", json=j.events)
    resp = await client.post(
        "/signals",
        json={"sessionId": ROOM, "from": None, "to": ["a"], "type": "chat", "data": "hi"},
        headers=AUTH,
    )
    assert resp.status == 200
    await flush(client)
    [doc] = await store.search({"event": "signalSent"})
    assert doc["from"] is None
    assert doc["to"] == ["a"]


async def test_recording_stopped_is_in_the_session_summary(
    client: TestClient[Any, Any], store: MemoryStore
) -> None:
    j = Janus()
    j.create_room(ROOM, 0)
    j.join("alice", ROOM, 10)
    await client.post("/events", json=j.events)
    rec = {
        "id": ROOM,
        "sessionId": ROOM,
        "name": "RecordingTest",
        "outputMode": "COMPOSED",
        "resolution": "1920x1080",
        "recordingLayout": "BEST_FIT",
        "startTime": 1_795_880_338_000,
    }
    for status, ts in (("started", 1_795_880_338_000), ("stopped", 1_795_880_347_734)):
        resp = await client.post(
            "/recordings", json={**rec, "status": status, "timestamp": ts}, headers=AUTH
        )
        assert resp.status == 200
    j.events.clear()
    j.leave("alice", ROOM, 20_000)
    await client.post("/events", json=j.events)
    await flush(client)
    assert await store.count({"event": "recordingStatusChanged"}) == 2
    [summary] = await store.search({"elastic_type": "sessionSummary"})
    assert summary["recordings"]["numberOfElements"] == 1
    assert await store.count({"elastic_type": "recordingSummary"}) == 1


async def test_media_server_lost_closes_open_sessions(
    client: TestClient[Any, Any], store: MemoryStore
) -> None:
    j = Janus()
    j.join("alice", ROOM, 10)
    await client.post("/events", json=j.events)
    resp = await client.post("/media-server-lost", headers=AUTH)
    assert resp.status == 200
    await flush(client)
    [destroyed] = await store.search({"event": "sessionDestroyed"})
    assert destroyed["reason"] == "mediaServerDisconnect"


async def test_client_stats_become_client_side_webrtcStats(
    client: TestClient[Any, Any], store: MemoryStore
) -> None:
    payload = {
        "connectionId": "alice",
        "sessionId": ROOM,
        "endpoint": "alice_CAMERA_ABCDE",
        "mediaType": "video",
        "timestamp": 1_795_880_400_000,
        "packetsSent": 423,
        "bytesSent": 43919,
        "roundTripTime": 0.00135,
    }
    resp = await client.post("/client-stats", json=[payload], headers=AUTH)
    assert resp.status == 200
    await flush(client)
    [doc] = await store.search({"elastic_type": "webrtcStats"})
    assert doc["rtcsim_side"] == "client"
    assert doc["roundTripTime"] == 0.00135
    bad = await client.post("/client-stats", json={**payload, "x": "str"}, headers=AUTH)
    assert bad.status == 400


async def test_health_and_stats_report_counters(client: TestClient[Any, Any]) -> None:
    await client.post("/events", json=[sample("transport_request")])
    health = await (await client.get("/health")).json()
    assert health["status"] == "ok"
    assert health["events"]["dropped"] == {"transport": 1}


async def test_stopping_the_app_flushes_pending_documents(store: MemoryStore) -> None:
    app = create_app(settings(flush_interval_s=3600), store, FixedClock())
    async with TestClient(TestServer(app)) as c:
        j = Janus()
        j.create_room(ROOM, 0)
        await c.post("/events", json=j.events)
        assert store.docs == {}
    assert await store.count({"event": "sessionCreated"}) == 1


class BlockedStore(MemoryStore):
    """A memory store whose first write waits until ``release`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.writing = asyncio.Event()
        self.release = asyncio.Event()

    async def write(self, docs: Sequence[tuple[str, Mapping[str, Any]]]) -> WriteResult:
        self.writing.set()
        await self.release.wait()
        return await super().write(docs)


async def test_stopping_the_app_in_the_middle_of_a_write_loses_no_document() -> None:
    # No state folder, so no spool: what the writer holds exists only in memory.
    store = BlockedStore()
    app = create_app(settings(flush_interval_s=3600, bulk_max_docs=1), store, FixedClock())
    async with TestClient(TestServer(app)) as c:
        j = Janus()
        j.create_room(ROOM, 0)
        j.join("alice", ROOM, 10)
        await c.post("/events", json=j.events)
        await asyncio.wait_for(store.writing.wait(), timeout=5)
        asyncio.get_running_loop().call_later(0.2, store.release.set)
    submitted = sum(app[COLLECTOR].counters.documents_submitted.values())
    assert submitted >= 2
    assert len(store.docs) == submitted
