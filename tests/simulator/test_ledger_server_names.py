"""The ledger as the documents name its connections (LiveKit: participant SIDs)."""

from __future__ import annotations

from simulator.ledger import (
    ConnectionRecord,
    Ledger,
    ParticipantRecord,
    ServerRecord,
    SubscriptionRecord,
)
from simulator.verify.verdict import required_types


def _ledger(*, server_ids: bool) -> Ledger:
    ledger = Ledger("run", "s", 0, 0)
    cam = ConnectionRecord(
        "cam-id", "room", server_id="PA_cam" if server_ids else None, joined_ms=1
    )
    sub = SubscriptionRecord(publisher="cam", receiving_from="cam-id", stream_id="st", started_ms=2)
    viewer = ConnectionRecord(
        "viewer-id", "room", server_id="PA_viewer" if server_ids else None, joined_ms=1
    )
    viewer.subscriptions.append(sub)
    ledger.participants["cam"] = ParticipantRecord("cam", "U1", "room", "", "", [cam])
    ledger.participants["viewer"] = ParticipantRecord("viewer", "U2", "room", "", "", [viewer])
    return ledger


def test_connections_and_the_feeds_they_receive_are_renamed_to_the_servers_ids() -> None:
    ledger = _ledger(server_ids=True)
    documented = ledger.as_documented()
    viewer = documented.participants["viewer"].current
    assert documented.participants["cam"].current.connection_id == "PA_cam"
    assert viewer.connection_id == "PA_viewer"
    assert viewer.subscriptions[0].receiving_from == "PA_cam"


def test_the_ledger_itself_is_left_as_the_simulator_recorded_it() -> None:
    ledger = _ledger(server_ids=True)
    ledger.as_documented()
    assert ledger.participants["viewer"].current.subscriptions[0].receiving_from == "cam-id"


def test_a_server_that_names_connections_as_rtcsim_does_keeps_the_same_ledger() -> None:
    ledger = _ledger(server_ids=False)
    assert ledger.as_documented() is ledger


def test_kms_documents_are_required_only_of_a_server_that_reports_ice_events() -> None:
    janus = _ledger(server_ids=False)
    livekit = _ledger(server_ids=True)
    livekit.server = ServerRecord(name="livekit", reports=[], drop_noticed_within_s=35.0)
    assert "kms" in required_types(janus)
    assert "kms" not in required_types(livekit)
    assert "subscriberSummary" in required_types(livekit)


def test_kms_documents_are_required_where_the_client_posts_them_in_the_servers_stead() -> None:
    livekit = _ledger(server_ids=True)
    livekit.server = ServerRecord(
        name="livekit", reports=[], drop_noticed_within_s=35.0, client_reports=["ice_events"]
    )
    assert "kms" in required_types(livekit)
