"""What only the client can tell on LiveKit: subscriptions and ICE events, marked as the
client's (``rtcsim_side: client``), with the server's own reasons winning where it has one."""

from __future__ import annotations

from collector.documents import KmsEventType
from collector.metadata import ClientEndpointEvent, SubscriptionInput
from tests.collector.model_helpers import bodies, one
from tests.collector.sources.livekit.recorded import Fed, Hook, hooks

ALICE, BOB = "PA_pcjWqVTz4zxd", "PA_XyHewBMUmsMs"
PUBLISHED_MS = 1796134746539  # alice's second track
UNPUBLISHED_MS = 1796134750719


def until(ms: int) -> list[Hook]:
    return [h for h in hooks("session-a") if h.received_ms <= ms]


def after(ms: int) -> list[Hook]:
    return [h for h in hooks("session-a") if h.received_ms > ms]


def subscription(status: str, ts: int, **extra: object) -> SubscriptionInput:
    return SubscriptionInput.model_validate(
        {
            "sessionId": "session-a",
            "connectionId": BOB,
            "receivingFrom": ALICE,
            "status": status,
            "timestamp": ts,
            **extra,
        }
    )


def test_a_subscription_the_client_reports_is_an_inbound_connection_marked_as_the_clients() -> None:
    fed = Fed()
    fed.feed(until(PUBLISHED_MS))
    docs = fed.model.subscription(subscription("started", PUBLISHED_MS + 300))
    created = one(docs, event="webrtcConnectionCreated")
    assert created["connection"] == "INBOUND"
    assert created["receivingFrom"] == ALICE
    assert created["streamId"] == "TR_VCd74tLDVvJdVk"
    assert created["rtcsim_side"] == "client"
    docs = fed.model.subscription(subscription("ended", PUBLISHED_MS + 2_300))
    destroyed = one(docs, event="webrtcConnectionDestroyed")
    assert destroyed["reason"] == "unsubscribe"
    assert destroyed["duration"] == 2


def test_a_subscription_still_open_when_its_publisher_unpublishes_ends_with_unpublish() -> None:
    fed = Fed()
    fed.feed(until(PUBLISHED_MS))
    fed.model.subscription(subscription("started", PUBLISHED_MS + 300))
    docs = fed.feed(after(PUBLISHED_MS))
    sub = one(docs, event="webrtcConnectionDestroyed", connection="INBOUND")
    assert sub["reason"] == "unpublish"
    assert one(docs, elastic_type="subscriberSummary")["rtcsim_side"] == "client"


def test_the_clients_end_while_its_publisher_unpublishes_is_that_unpublish() -> None:
    fed = Fed()
    fed.feed(until(PUBLISHED_MS))
    fed.model.subscription(subscription("started", PUBLISHED_MS + 300))
    fed.feed(until(UNPUBLISHED_MS)[len(until(PUBLISHED_MS)) :])
    # The viewer saw the tracks go and stopped, before the unpublish settled.
    assert fed.model.subscription(subscription("ended", UNPUBLISHED_MS + 5)) == []
    docs = fed.settle_at(UNPUBLISHED_MS + 2_000)
    assert one(docs, event="webrtcConnectionDestroyed", connection="INBOUND")["reason"] == (
        "unpublish"
    )


def test_a_subscription_reported_before_its_publishers_webhook_waits_for_it() -> None:
    fed = Fed()
    fed.feed(until(1796134746442))  # both joined, nothing published yet
    assert fed.model.subscription(subscription("started", 1796134746500)) == []
    docs = fed.feed(until(PUBLISHED_MS)[len(until(1796134746442)) :])
    sub = one(docs, event="webrtcConnectionCreated", connection="INBOUND")
    assert sub["timestamp"] == 1796134746500


def test_a_subscription_to_nobody_the_server_knows_never_makes_documents() -> None:
    fed = Fed()
    fed.feed(until(1796134746442))
    fed.model.subscription(subscription("started", 1796134746500))
    fed.model.subscription(subscription("ended", 1796134746600))
    docs = fed.feed(after(1796134746442))
    assert bodies(docs, event="webrtcConnectionCreated", connection="INBOUND") == []


def test_an_ice_event_the_client_saw_is_a_kms_document_marked_as_the_clients() -> None:
    fed = Fed()
    fed.feed(until(PUBLISHED_MS))
    event = ClientEndpointEvent.model_validate(
        {
            "sessionId": "session-a",
            "connectionId": ALICE,
            "endpoint": "TR_VCd74tLDVvJdVk",
            "type": KmsEventType.NEW_CANDIDATE_PAIR_SELECTED.value,
            "timestamp": 1796134746300,
            "msSinceEndpointCreation": 95,
            "candidatePair": {
                "streamId": "0",
                "componentId": 1,
                "localCandidate": "candidate:1 1 udp 2130706431 198.18.22.2 40000 typ host",
                "remoteCandidate": "candidate:2 1 udp 2130706431 198.18.22.1 50000 typ host",
            },
        }
    )
    kms = one(fed.model.client_endpoint_event(event), elastic_type="kms")
    assert kms["rtcsim_side"] == "client"
    assert kms["user"] == "alice"
    assert kms["msSinceEndpointCreation"] == 95
    assert kms["uniqueSessionId"].startswith("session-a_")


def _state_change(endpoint: str, state: str, ts: int) -> ClientEndpointEvent:
    return ClientEndpointEvent.model_validate(
        {
            "sessionId": "session-a",
            "connectionId": BOB,
            "endpoint": endpoint,
            "type": KmsEventType.ICE_COMPONENT_STATE_CHANGE.value,
            "timestamp": ts,
            "msSinceEndpointCreation": 40,
            "streamId": 1,
            "componentId": 1,
            "state": state,
        }
    )


def test_an_ice_event_posted_again_is_the_same_document_and_another_one_is_not() -> None:
    """The ``_id`` comes from the session, endpoint, type, time and state: a re-post
    overwrites its document with the same body, while the same change of a connection shared
    by two subscriptions, or another change of the same endpoint, is a document of its own."""
    fed = Fed()
    fed.feed(until(PUBLISHED_MS))
    ts = PUBLISHED_MS + 10

    def item(endpoint: str, state: str, at: int = ts) -> tuple[str, dict[str, object]]:
        docs = fed.model.client_endpoint_event(_state_change(endpoint, state, at))
        return next(d.item() for d in docs if d.elastic_type == "kms")

    first = item(f"{BOB}_TR_a", "READY")
    assert item(f"{BOB}_TR_a", "READY") == first
    ids = {
        first[0],
        item(f"{BOB}_TR_b", "READY")[0],
        item(f"{BOB}_TR_a", "DISCONNECTED")[0],
        item(f"{BOB}_TR_a", "READY", ts + 1)[0],
    }
    assert len(ids) == 4
