"""Our documents against the seed's JSON examples: every seed key, with the same JSON type.

The seed (OpenVidu Pro 2.11 docs, copied to ``tests/data/openvidu_seed/``) is the schema to match.
Extra keys are allowed (later OpenVidu versions and rtcsim add some); a missing or retyped one is
not. Containers are compared element-wise on their first element.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from collector.clock import FixedClock
from collector.documents import MemoryUsage, MonitoringStats, NetCounters
from collector.metadata import RecordingInput
from collector.session_model import SessionModel
from simulator.verify.schema import UNMEASURED, json_type
from tests.collector.janus_sequences import Janus
from tests.collector.model_helpers import ROOM, feed, register

SEED = Path(__file__).resolve().parents[2] / "data" / "openvidu_seed"


def missing_or_retyped(seed: Any, ours: Any, path: str = "") -> list[str]:
    problems = []
    if json_type(seed) != json_type(ours):
        return [f"{path or '(root)'}: seed {json_type(seed)}, ours {json_type(ours)}"]
    if isinstance(seed, dict) and path.endswith(".net"):
        # interface names are dynamic keys: compare the shape of one interface
        seed, ours = {"iface": next(iter(seed.values()))}, {"iface": next(iter(ours.values()))}
    if isinstance(seed, dict):
        for key, value in seed.items():
            if key not in ours:
                problems.append(f"{path}.{key}: missing")
            else:
                problems.extend(missing_or_retyped(value, ours[key], f"{path}.{key}"))
    elif isinstance(seed, list) and seed and ours:
        problems.extend(missing_or_retyped(seed[0], ours[0], f"{path}[0]"))
    elif isinstance(seed, list) and seed and not ours:
        problems.append(f"{path}: seed has elements, ours is empty")
    return problems


def full_run() -> list[dict[str, Any]]:
    """Two participants publish and subscribe, stats flow, a recording, both leave cleanly."""
    model = SessionModel(FixedClock())
    register(model, ROOM, "alice", "bob")
    j = Janus()
    j.create_room(ROOM, 0)
    j.join("alice", ROOM, 100)
    j.publish("alice", ROOM, 110)
    j.join("bob", ROOM, 1_000)
    j.subscribe("bob", ROOM, "alice", 1_200)
    j.publisher_stats("alice", 2_000)
    j.subscriber_stats("bob", "alice", 2_000)
    docs = feed(model, j.events)
    rec = {"id": ROOM, "sessionId": ROOM, "name": "RecordingTest", "outputMode": "COMPOSED"}
    rec |= {"resolution": "1920x1080", "recordingLayout": "BEST_FIT", "startTime": 1}
    for status in ("started", "stopped"):
        docs += model.recording(RecordingInput(**rec, status=status, timestamp=2))
    docs += model.webrtc_stats_due()
    j.events.clear()
    j.clean_leave("bob", ROOM, 10_000, publishing=False)
    j.clean_leave("alice", ROOM, 20_000)
    docs += feed(model, j.events)
    probe = MonitoringStats(
        timestamp=1,
        cpu=11.8,
        mem=MemoryUsage(used=7287344, percentage=45.1),
        net={"veth0": NetCounters(rxBytes=0, txBytes=0)},
    )
    return [d.body() for d in [*docs, probe]]


@pytest.fixture(scope="module")
def ours() -> list[dict[str, Any]]:
    return full_run()


CASES = {
    "cdr": {"event": "sessionDestroyed"},
    "kms": {"type": "IceComponentStateChange", "state": "READY"},
    "monitoringStats": {},
    "webrtcStats": {
        "mediaType": "video",
        "rtcsim_side": "server",
        "endpoint": "alice_CAMERA_ABCDE",
    },
    "sessionSummary": {},
    "recordingSummary": {},
    "userSummary": {"id": "0000000000000000"},
    "connectionSummary": {"connectionId": "alice"},
    "publisherSummary": {},
    "subscriberSummary": {},
}


@pytest.mark.parametrize("elastic_type", sorted(CASES))
def test_every_seed_key_exists_with_the_same_json_type(
    elastic_type: str, ours: list[dict[str, Any]]
) -> None:
    seed = json.loads((SEED / f"{elastic_type}.json").read_text())
    candidates = [
        d
        for d in ours
        if d["elastic_type"] == elastic_type
        and all(d.get(k) == v for k, v in CASES[elastic_type].items())
    ]
    assert candidates, f"no {elastic_type} document produced"
    unmeasured = {f".{key}: missing" for key in UNMEASURED.get(elastic_type, ())}
    assert [p for p in missing_or_retyped(seed, candidates[0]) if p not in unmeasured] == []


def test_counters_janus_does_not_keep_are_absent_not_zero(ours: list[dict[str, Any]]) -> None:
    """A 0 would say no key frame was asked for; nobody counted (issue 12: absent is honest)."""
    stats = [d for d in ours if d["elastic_type"] == "webrtcStats"]
    server = [d for d in stats if d["rtcsim_side"] == "server"]
    assert server
    assert all(not (UNMEASURED["webrtcStats"] & d.keys()) for d in server)


def test_the_session_summary_nests_users_connections_publishers_as_the_seed(
    ours: list[dict[str, Any]],
) -> None:
    [summary] = [d for d in ours if d["elastic_type"] == "sessionSummary"]
    users = summary["users"]
    assert users["numberOfElements"] == 2
    alice = next(u for u in users["content"] if u["id"] == "0000000000000000")
    conn = alice["connections"]["content"][0]
    assert conn["elastic_type"] == "connectionSummary"
    assert conn["geoPoints"] == "19.09,72.87"
    assert conn["publishers"]["content"][0]["elastic_type"] == "publisherSummary"
    bob = next(u for u in users["content"] if u["id"] != "0000000000000000")
    sub = bob["connections"]["content"][0]["subscribers"]["content"][0]
    assert sub["receivingFrom"] == "alice"
    assert summary["recordings"]["content"][0]["elastic_type"] == "recordingSummary"


def test_each_nested_summary_is_also_its_own_document(ours: list[dict[str, Any]]) -> None:
    kinds = [d["elastic_type"] for d in ours if d["elastic_type"].endswith("Summary")]
    assert sorted(kinds) == sorted(
        ["sessionSummary", "recordingSummary"]
        + ["userSummary"] * 2
        + ["connectionSummary"] * 2
        + ["publisherSummary", "subscriberSummary"]
    )
