"""A whole session as the real Janus 1.1.2 reported it (captured on the project's stack with
rtcsim's driver: one publisher, two subscribers who unsubscribe and leave, then the publisher
unpublishes and leaves, then the room is destroyed)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from collector.clock import FixedClock
from collector.session_model import SessionModel
from tests.collector.model_helpers import feed, register

CAPTURE = Path(__file__).resolve().parents[1] / "data" / "janus" / "smoke_1pub_2sub.jsonl"
ROOM = "smoke-20261128-161751-153a"
PUBLISHER, SUBSCRIBERS = "rdy5xz5mdbb871eq", ("gnbdx5eld12wuei6", "ja5nmwaalapnvvwv")


def _documents() -> list[dict[str, object]]:
    events = [json.loads(line) for line in CAPTURE.read_text().splitlines()]
    model = SessionModel(FixedClock(events[-1]["timestamp"] // 1000 + 60_000))
    register(model, ROOM, PUBLISHER, *SUBSCRIBERS)
    docs = [d.body() for d in feed(model, events)]
    docs += [d.body() for d in model.settle_due()]
    return docs


def test_the_captured_session_gives_the_six_lifecycle_events_once_each_per_subject() -> None:
    cdr = Counter(d["event"] for d in _documents() if d["elastic_type"] == "cdr")
    assert cdr == {
        "sessionCreated": 1,
        "participantJoined": 3,
        "webrtcConnectionCreated": 3,
        "webrtcConnectionDestroyed": 3,
        "participantLeft": 3,
        "sessionDestroyed": 1,
    }


def test_the_captured_session_ends_with_the_reasons_janus_implies() -> None:
    docs = _documents()
    reasons = {
        (d["event"], d.get("connectionId")): d["reason"]
        for d in docs
        if d["elastic_type"] == "cdr" and "reason" in d
    }
    for sub in SUBSCRIBERS:
        assert reasons[("webrtcConnectionDestroyed", sub)] == "unsubscribe"
        assert reasons[("participantLeft", sub)] == "disconnect"
    assert reasons[("webrtcConnectionDestroyed", PUBLISHER)] == "unpublish"
    assert reasons[("sessionDestroyed", None)] == "lastParticipantLeft"


def test_the_captured_session_is_summarised_with_every_connection_and_endpoint() -> None:
    summary = next(d for d in _documents() if d["elastic_type"] == "sessionSummary")
    users = summary["users"]["content"]  # type: ignore[index]
    assert summary["users"]["numberOfElements"] == 3  # type: ignore[index]
    endpoints = sum(
        c["publishers"]["numberOfElements"] + c["subscribers"]["numberOfElements"]
        for u in users
        for c in u["connections"]["content"]
    )
    assert endpoints == 3
