"""Property-based fuzzing of the collector's HTTP endpoints, in process.

Whatever arrives (malformed, truncated, oversized, wrongly typed, mixed with valid items), the
collector answers 2xx or a 4xx that names the reason, never a 5xx; it keeps serving; and every
valid event of a batch still becomes its documents.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.app import COLLECTOR, create_app
from collector.clock import FixedClock
from collector.settings import CollectorSettings
from collector.store import MemoryStore
from tests.collector.janus_sequences import Janus
from tests.collector.model_helpers import ROOM, RUN

TOKEN = "fuzz-t0ken"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MAX_BODY = 16 * 1024
SIMULATOR_ROUTES = [
    "/sessions",
    "/identities",
    "/streams",
    "/client-stats",
    "/subscriptions",
    "/client-events",
    "/signals",
    "/recordings",
    "/media-server-lost",
]
FUZZ = settings(
    max_examples=60,
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _valid_sequence() -> list[dict[str, Any]]:
    """A room and one participant joining it: yields a ``participantJoined`` for ``alice``."""
    j = Janus()
    j.create_room(ROOM, 0)
    j.join("alice", ROOM, 10)
    return j.events


def _other_events() -> list[dict[str, Any]]:
    """Valid events of another room, the raw material of the mutations."""
    j = Janus()
    j.create_room("fuzz-room", 0)
    j.join("mallory", "fuzz-room", 10)
    j.publish("mallory", "fuzz-room", 20)
    return j.events


OTHER_EVENTS = _other_events()


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


@st.composite
def mutated_events(draw: st.DrawFn) -> object:
    """A real event with one field replaced by a random JSON value or removed, or pure junk."""
    if draw(st.booleans()):
        return draw(json_values)
    event = copy.deepcopy(draw(st.sampled_from(OTHER_EVENTS)))
    path = draw(st.sampled_from(_paths(event)))
    parent: Any = event
    for step in path[:-1]:
        parent = parent[step]
    if draw(st.booleans()) and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(json_values)
    return event


@asynccontextmanager
async def collector_client(
    **overrides: Any,
) -> AsyncIterator[tuple[TestClient[Any, Any], MemoryStore]]:
    values: dict[str, Any] = {
        "store": "memory",
        "token": TOKEN,
        "webrtc_stats_interval_s": 0,
        "monitoring_interval_s": 0,
        "max_body_bytes": MAX_BODY,
        **overrides,
    }
    store = MemoryStore()
    app = create_app(CollectorSettings(**values), store, FixedClock())
    async with TestClient(TestServer(app)) as client:
        yield client, store


async def assert_client_error_with_reason(status: int, body: bytes) -> None:
    assert status < 500, body
    if status >= 400:
        answer = orjson.loads(body)
        # Simulator routes name one reason; an event batch names one per rejected item.
        reasons = (
            [answer["error"]] if "error" in answer else [r["error"] for r in answer["rejected"]]
        )
        assert reasons, body
        assert all(reasons), body


async def assert_still_serving(client: TestClient[Any, Any]) -> None:
    assert (await client.get("/health")).status == 200


@FUZZ
@given(
    junk=st.lists(mutated_events(), min_size=1, max_size=6),
    positions=st.lists(st.integers(min_value=0, max_value=100), min_size=6, max_size=6),
)
async def test_a_batch_mixing_junk_with_valid_events_loses_no_valid_event(
    junk: list[object], positions: list[int]
) -> None:
    batch: list[object] = list(_valid_sequence())
    for item, position in zip(junk, positions, strict=False):
        batch.insert(position % (len(batch) + 1), item)
    async with collector_client() as (client, store):
        resp = await client.post("/sessions", json={"sessionId": ROOM, "runId": RUN}, headers=AUTH)
        assert resp.status == 200
        resp = await client.post("/events", data=json.dumps(batch))
        body = await resp.read()
        assert resp.status in (200, 400), body
        answer = orjson.loads(body)
        for rejected in answer.get("rejected", []):
            assert isinstance(rejected["index"], int)
            assert rejected["error"]
        await client.app[COLLECTOR].writer.flush()
        joined = await store.search({"event": "participantJoined", "rtcsim_run_id": RUN})
        assert [doc["connectionId"] for doc in joined] == ["alice"]
        await assert_still_serving(client)


@FUZZ
@given(cut=st.integers(min_value=0, max_value=10**6))
async def test_a_truncated_batch_is_400_invalid_json(cut: int) -> None:
    raw = orjson.dumps(_valid_sequence())
    async with collector_client() as (client, _store):
        resp = await client.post("/events", data=raw[: cut % len(raw)])
        assert resp.status == 400
        assert "invalid JSON" in orjson.loads(await resp.read())["error"]
        await assert_still_serving(client)


@FUZZ
@given(raw=st.binary(max_size=256))
async def test_arbitrary_bytes_never_make_a_5xx(raw: bytes) -> None:
    async with collector_client() as (client, _store):
        for route in ["/events", *SIMULATOR_ROUTES]:
            resp = await client.post(route, data=raw, headers=AUTH)
            await assert_client_error_with_reason(resp.status, await resp.read())
        await assert_still_serving(client)


@FUZZ
@given(route=st.sampled_from(SIMULATOR_ROUTES), body=json_values)
async def test_wrongly_typed_simulator_payloads_are_4xx_with_a_reason(
    route: str, body: object
) -> None:
    async with collector_client() as (client, _store):
        resp = await client.post(route, data=json.dumps(body), headers=AUTH)
        await assert_client_error_with_reason(resp.status, await resp.read())
        await assert_still_serving(client)


@FUZZ
@given(
    route=st.sampled_from(SIMULATOR_ROUTES),
    field=st.sampled_from(["sessionId", "connectionId", "timestamp", "user", "to", "status"]),
    value=json_values,
)
async def test_a_bad_field_in_an_otherwise_valid_payload_is_4xx(
    route: str, field: str, value: object
) -> None:
    base: dict[str, object] = {
        "sessionId": ROOM,
        "runId": RUN,
        "connectionId": "alice",
        "user": "0000000000000001",
        "streamId": "alice_CAMERA_ABCDE",
        "endpoint": "alice_CAMERA_ABCDE",
        "mediaType": "video",
        "timestamp": 1_795_880_338_000,
        "to": ["bob"],
        "id": ROOM,
        "status": "started",
        "startTime": 1_795_880_338_000,
    }
    async with collector_client() as (client, _store):
        await client.post("/sessions", json={"sessionId": ROOM, "runId": RUN}, headers=AUTH)
        resp = await client.post(route, data=json.dumps({**base, field: value}), headers=AUTH)
        await assert_client_error_with_reason(resp.status, await resp.read())
        await assert_still_serving(client)


@FUZZ
@given(timestamp=json_values.filter(lambda v: isinstance(v, bool) or not isinstance(v, int)))
async def test_media_server_lost_with_a_timestamp_that_is_no_integer_is_400(
    timestamp: object,
) -> None:
    async with collector_client() as (client, _store):
        resp = await client.post(
            "/media-server-lost", data=json.dumps({"timestamp": timestamp}), headers=AUTH
        )
        if timestamp is None:
            assert resp.status == 200
        else:
            assert resp.status == 400
            assert "timestamp" in orjson.loads(await resp.read())["error"]


@settings(max_examples=10, deadline=5000)
@given(
    extra=st.integers(min_value=1, max_value=4 * MAX_BODY),
    route=st.sampled_from(["/events", *SIMULATOR_ROUTES]),
    chunked=st.booleans(),
)
async def test_an_oversized_body_is_413(extra: int, route: str, chunked: bool) -> None:
    body = b"[" + b" " * (MAX_BODY + extra) + b"]"

    async def stream() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    async with collector_client() as (client, _store):
        resp = await client.post(route, data=stream() if chunked else body, headers=AUTH)
        assert resp.status == 413
        assert "exceeds" in orjson.loads(await resp.read())["error"]
        await assert_still_serving(client)


@FUZZ
@given(header=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40))
async def test_any_wrong_credentials_are_401_never_5xx(header: str) -> None:
    async with collector_client(events_user="janus", events_password="pw") as (client, _store):
        resp = await client.post("/events", json=[], headers={"Authorization": header})
        assert resp.status == 401
        resp = await client.post(
            "/sessions", json={"sessionId": ROOM}, headers={"Authorization": header}
        )
        assert resp.status == 401
