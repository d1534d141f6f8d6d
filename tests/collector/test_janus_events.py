"""Parsing the Janus event envelope and classes from the real samples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from collector.events.errors import EventError
from collector.events.janus import (
    EventType,
    IgnoredEvent,
    MediaStatsEvent,
    PluginEvent,
    SelectedPairEvent,
    parse_event,
)
from tests.collector.janus_sequences import DATA, sample


@pytest.mark.parametrize(
    "path", sorted(p for p in DATA.glob("*.json") if not p.name.startswith(("_", "aiortc")))
)
def test_every_real_sample_parses(path: Path) -> None:
    event = parse_event(json.loads(path.read_text()))
    assert event.timestamp_ms == json.loads(path.read_text())["timestamp"] // 1000


def test_numeric_videoroom_ids_become_strings() -> None:
    event = parse_event(sample("plugin_videoroom_joined"))
    assert isinstance(event.payload, PluginEvent)
    assert event.payload.data is not None
    assert event.payload.data.room == "4321"
    assert event.payload.data.id == "1578649171543975"


def test_media_stats_fields_keep_janus_meaning() -> None:
    event = parse_event(sample("media_stats_video_subscriber-side"))
    assert isinstance(event.payload, MediaStatsEvent)
    assert event.payload.lost_by_remote == 11
    assert event.payload.nacks_received == 131


def test_negative_cumulative_loss_sent_as_unsigned_24_bits_counts_as_no_loss() -> None:
    raw = sample("media_stats_video_subscriber-side")
    raw["event"]["lost-by-remote"] = 16777215  # -1 in RTCP's signed 24 bits (duplicates)
    event = parse_event(raw)
    assert isinstance(event.payload, MediaStatsEvent)
    assert event.payload.lost_by_remote == 0


def test_selected_pair_has_structured_candidates() -> None:
    event = parse_event(sample("webrtc_selected-pair"))
    assert isinstance(event.payload, SelectedPairEvent)
    assert event.payload.candidates is not None
    assert event.payload.candidates.local.port == 20338


def test_transport_events_parse_as_ignored() -> None:
    event = parse_event(sample("transport_request"))
    assert event.type is EventType.TRANSPORT
    assert isinstance(event.payload, IgnoredEvent)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "must be a JSON object"),
        ({"type": 1, "timestamp": 1}, "event: Field required"),
        ({"type": 3, "timestamp": 1, "event": {}}, "unknown event type 3"),
        ({"type": 16, "subtype": 9, "timestamp": 1, "event": {}}, "unknown subtype 9"),
        ({"type": 16, "subtype": 6, "timestamp": 1, "event": {}}, "event.connection"),
    ],
)
def test_bad_events_name_the_field(raw: object, message: str) -> None:
    with pytest.raises(EventError, match=message):
        parse_event(raw)


@pytest.mark.parametrize(
    "path", sorted(p for p in DATA.glob("*.json") if not p.name.startswith(("_", "aiortc")))
)
def test_an_envelope_taken_as_it_is_parses_as_pydantic_would_parse_it(path: Path) -> None:
    raw = json.loads(path.read_text())
    # A timestamp given as a string of digits is not of its exact type: Envelope validates it.
    coerced = {**raw, "timestamp": str(raw["timestamp"])}
    assert parse_event(raw) == parse_event(coerced)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"type": 1, "timestamp": -1, "event": {"name": "created"}}, "timestamp: Input should"),
        ({"type": 1, "timestamp": 1, "session_id": "x", "event": {}}, "session_id: Input should"),
        ({"type": 1, "timestamp": 1, "opaque_id": 5, "event": {}}, "opaque_id: Input should"),
        ({"type": 1, "timestamp": 1, "event": []}, "event: Input should"),
    ],
)
def test_an_envelope_of_the_wrong_types_gets_pydantic_s_message(raw: object, message: str) -> None:
    with pytest.raises(EventError, match=message):
        parse_event(raw)
