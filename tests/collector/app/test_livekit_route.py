"""``POST /livekit``: LiveKit's signed webhooks in, verified with the stack's key pair."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp.test_utils import TestClient, TestServer

from collector.app import COLLECTOR, create_app
from collector.clock import FixedClock
from collector.settings import CollectorSettings
from collector.store import MemoryStore
from tests.collector.sources.livekit.recorded import hooks, keys

TEN_YEARS_S = 10 * 365 * 24 * 3600.0  # the recorded tokens expired minutes after they were sent


def settings(**overrides: Any) -> CollectorSettings:
    key, secret = keys()
    base: dict[str, Any] = {
        "store": "memory",
        "webrtc_stats_interval_s": 0,
        "monitoring_interval_s": 0,
        "livekit_api_key": key,
        "livekit_api_secret": secret,
        "livekit_webhook_leeway_s": TEN_YEARS_S,
    }
    return CollectorSettings(**{**base, **overrides})


@pytest.fixture
async def client() -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(create_app(settings(), MemoryStore(), FixedClock()))) as c:
        yield c


def headers(authorization: str) -> dict[str, str]:
    return {"Authorization": authorization, "Content-Type": "application/webhook+json"}


async def test_every_recorded_webhook_is_accepted_with_the_stacks_keys(
    client: TestClient[Any, Any],
) -> None:
    for hook in hooks():
        resp = await client.post("/livekit", data=hook.body, headers=headers(hook.authorization))
        assert resp.status == 200, await resp.text()
        assert (await resp.json())["accepted"] == 1
    c = client.app[COLLECTOR]
    assert c.counters.events_accepted["participant_left"] == 5
    assert c.model.open_sessions() == []


async def test_a_body_changed_after_signing_is_401(client: TestClient[Any, Any]) -> None:
    hook = hooks()[1]
    forged = hook.body.replace('"alice"', '"mallory"')
    resp = await client.post("/livekit", data=forged, headers=headers(hook.authorization))
    assert resp.status == 401
    assert "signature" in (await resp.json())["error"]
    assert client.app[COLLECTOR].model.open_sessions() == []


async def test_a_webhook_signed_with_another_secret_or_unsigned_is_401() -> None:
    hook = hooks()[0]
    app = create_app(settings(livekit_api_secret="x" * 43), MemoryStore(), FixedClock())
    async with TestClient(TestServer(app)) as c:
        resp = await c.post("/livekit", data=hook.body, headers=headers(hook.authorization))
        assert resp.status == 401
        resp = await c.post("/livekit", data=hook.body)
        assert resp.status == 401
        assert c.app[COLLECTOR].counters.api_rejected["/livekit"] == 2


async def test_without_a_key_pair_webhooks_are_refused_saying_which_settings() -> None:
    app = create_app(
        settings(livekit_api_key=None, livekit_api_secret=None), MemoryStore(), FixedClock()
    )
    async with TestClient(TestServer(app)) as c:
        hook = hooks()[0]
        resp = await c.post("/livekit", data=hook.body, headers=headers(hook.authorization))
        assert resp.status == 401
        assert "livekit_api_key" in (await resp.json())["error"]


async def test_an_expired_token_is_401_with_the_default_leeway() -> None:
    app = create_app(settings(livekit_webhook_leeway_s=60), MemoryStore(), FixedClock())
    async with TestClient(TestServer(app)) as c:
        hook = hooks()[0]
        resp = await c.post("/livekit", data=hook.body, headers=headers(hook.authorization))
        assert resp.status == 401
        assert "expired" in (await resp.json())["error"].lower()


async def test_accepted_webhooks_are_journaled_and_a_restart_resumes_their_sessions(
    tmp_path: Path,
) -> None:
    first = hooks("session-a")[:3]  # room started, alice and bob joined
    app = create_app(settings(state_dir=tmp_path), MemoryStore(), FixedClock())
    async with TestClient(TestServer(app)) as c:
        for hook in first:
            resp = await c.post("/livekit", data=hook.body, headers=headers(hook.authorization))
            assert resp.status == 200
    store = MemoryStore()
    app = create_app(settings(state_dir=tmp_path), store, FixedClock())
    async with TestClient(TestServer(app)) as c:
        assert c.app[COLLECTOR].model.open_sessions() == ["session-a"]
        for hook in hooks("session-a")[3:]:
            resp = await c.post("/livekit", data=hook.body, headers=headers(hook.authorization))
            assert resp.status == 200
    assert await store.count({"event": "sessionDestroyed"}) == 1
    assert await store.count({"event": "participantLeft"}) == 2


def sign(body: str) -> str:
    """A token as LiveKit makes one (HS256, the body's SHA-256 in ``sha256``), signed now."""
    key, secret = keys()
    now = int(time.time())
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    return jwt.encode(
        {"iss": key, "nbf": now, "exp": now + 300, "sha256": digest}, secret, algorithm="HS256"
    )


async def test_a_signed_webhook_missing_what_its_event_needs_is_400_naming_it(
    client: TestClient[Any, Any],
) -> None:
    body = json.dumps({"event": "participant_joined", "room": {"name": "r1"}})
    resp = await client.post("/livekit", data=body, headers=headers(sign(body)))
    assert resp.status == 400
    [rejected] = (await resp.json())["rejected"]
    assert "participant" in rejected["error"]


async def test_a_signed_webhook_the_collector_does_not_map_is_dropped_and_counted(
    client: TestClient[Any, Any],
) -> None:
    body = json.dumps({"event": "egress_started", "id": "EV_1", "createdAt": "1796134746"})
    resp = await client.post("/livekit", data=body, headers=headers(sign(body)))
    assert resp.status == 200
    assert (await resp.json()) == {"accepted": 0, "dropped": 1}
    assert client.app[COLLECTOR].counters.events_dropped["egress_started"] == 1
