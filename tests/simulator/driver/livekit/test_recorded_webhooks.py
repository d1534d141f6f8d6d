"""The webhooks recorded from a real LiveKit (tests/data/livekit) are genuine and complete.

They are the test data of the collector's LiveKit mapping to come, so they must verify the
way the collector will verify live ones: ``WebhookReceiver`` with the stack's key pair.
"""

import datetime
import json
from pathlib import Path
from typing import Any

import pytest
from livekit.api import TokenVerifier, WebhookReceiver
from livekit.protocol import models

DATA = Path(__file__).parents[3] / "data" / "livekit" / "webhooks.json"
# The JWTs expire minutes after LiveKit signed them; the recording is older than that.
FOREVER = datetime.timedelta(days=365 * 100)


@pytest.fixture(scope="module")
def recorded() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATA.read_text())
    return data


def test_every_recorded_webhook_verifies_with_the_recorded_key_pair(
    recorded: dict[str, Any],
) -> None:
    receiver = WebhookReceiver(
        TokenVerifier(recorded["api_key"], recorded["api_secret"], leeway=FOREVER)
    )
    events = [receiver.receive(h["body"], h["authorization"]) for h in recorded["webhooks"]]
    assert {e.event for e in events} >= {
        "room_started",
        "participant_joined",
        "track_published",
        "track_unpublished",
        "participant_left",
        "room_finished",
    }
    assert all(h["content_type"] == "application/webhook+json" for h in recorded["webhooks"])


def test_a_tampered_body_does_not_verify(recorded: dict[str, Any]) -> None:
    receiver = WebhookReceiver(
        TokenVerifier(recorded["api_key"], recorded["api_secret"], leeway=FOREVER)
    )
    first = recorded["webhooks"][0]
    with pytest.raises(Exception, match="hash mismatch"):
        receiver.receive(first["body"].replace("session-a", "session-x"), first["authorization"])


def test_the_recording_holds_each_way_a_participant_can_end(recorded: dict[str, Any]) -> None:
    receiver = WebhookReceiver(
        TokenVerifier(recorded["api_key"], recorded["api_secret"], leeway=FOREVER)
    )
    left = {}
    for hook in recorded["webhooks"]:
        event = receiver.receive(hook["body"], hook["authorization"])
        if event.event == "participant_left":
            left[event.participant.identity] = event.participant.disconnect_reason
    assert left == {
        "bob": models.DisconnectReason.PARTICIPANT_REMOVED,
        "alice": models.DisconnectReason.CLIENT_INITIATED,
        "carol": models.DisconnectReason.ROOM_DELETED,
        "dave": models.DisconnectReason.ROOM_DELETED,
        "erin": models.DisconnectReason.CONNECTION_TIMEOUT,
    }
