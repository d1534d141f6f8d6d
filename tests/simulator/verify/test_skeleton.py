from simulator.ledger import (
    ConnectionRecord,
    Ledger,
    MediaCounters,
    ParticipantRecord,
    PublicationRecord,
    SessionRecord,
    SubscriptionRecord,
)
from simulator.verify.skeleton import (
    candidate_checks,
    expected_cdr_counts,
    found_cdr_counts,
    skeleton_checks,
)


def _ledger(frames: int = 300) -> Ledger:
    ledger = Ledger(run_id="r1", scenario="smoke", seed=1, started_ms=0)
    ledger.sessions["smoke"] = SessionRecord("smoke", "smoke-r1", created_ms=1)
    alice = ParticipantRecord("alice", "U1", "smoke", "Here, ES", "Chrome")
    alice.connections.append(ConnectionRecord("c-alice", "smoke-r1", 10, 9000))
    alice.current.publications.append(
        PublicationRecord("c-alice_CAMERA_ABCDE", True, True, 640, 480, 30, 20)
    )
    alice.current.sdp_candidates = ["198.18.0.2", "198.18.0.1"]
    bob = ParticipantRecord("bob", "U2", "smoke", "There, FR", "Firefox")
    bob.connections.append(ConnectionRecord("c-bob", "smoke-r1", 11, 8000))
    sub = SubscriptionRecord("alice", "c-alice", "c-alice_CAMERA_ABCDE", 30)
    sub.received = {"video": MediaCounters(frames=frames), "audio": MediaCounters(frames=frames)}
    bob.current.subscriptions.append(sub)
    bob.current.sdp_candidates = ["198.18.0.2", "198.18.0.1"]
    ledger.participants = {"alice": alice, "bob": bob}
    return ledger


def _cdr(event: str, n: int = 1) -> list[dict[str, object]]:
    return [{"elastic_type": "cdr", "event": event, "sessionId": "smoke-r1"}] * n


ALL_DOCS = (
    _cdr("sessionCreated")
    + _cdr("participantJoined", 2)
    + _cdr("webrtcConnectionCreated", 2)
    + _cdr("webrtcConnectionDestroyed", 2)
    + _cdr("participantLeft", 2)
    + _cdr("sessionDestroyed")
)


def test_expected_counts_follow_what_the_simulator_did() -> None:
    assert expected_cdr_counts(_ledger()) == {
        "sessionCreated": 1,
        "participantJoined": 2,
        "webrtcConnectionCreated": 2,
        "webrtcConnectionDestroyed": 2,
        "participantLeft": 2,
        "sessionDestroyed": 1,
    }


def test_all_checks_pass_when_documents_match_the_ledger() -> None:
    checks = skeleton_checks(_ledger(), ALL_DOCS)
    assert all(check.ok for check in checks), [c for c in checks if not c.ok]


def test_a_missing_participant_left_document_fails_its_check() -> None:
    docs = [d for d in ALL_DOCS if d["event"] != "participantLeft"] + _cdr("participantLeft")
    failed = [c.name for c in skeleton_checks(_ledger(), docs) if not c.ok]
    assert failed == ["cdr participantLeft documents"]


def test_a_duplicated_document_fails_too() -> None:
    failed = [
        c.name for c in skeleton_checks(_ledger(), ALL_DOCS + _cdr("sessionCreated")) if not c.ok
    ]
    assert failed == ["cdr sessionCreated documents"]


def test_a_subscriber_without_frames_fails() -> None:
    failed = [c.name for c in skeleton_checks(_ledger(frames=0), ALL_DOCS) if not c.ok]
    assert "bob received video frames from alice" in failed


def test_documents_of_other_types_are_not_counted_as_cdr() -> None:
    docs = [*ALL_DOCS, {"elastic_type": "kms", "event": "sessionCreated"}]
    assert found_cdr_counts(docs)["sessionCreated"] == 1


def test_a_candidate_outside_the_namespace_network_fails() -> None:
    ledger = _ledger()
    ledger.participants["bob"].current.sdp_candidates.append("10.0.0.5")
    results = {c.name: c for c in candidate_checks(ledger, "198.18.0.0/15")}
    assert results["alice: ICE candidates inside 198.18.0.0/15"].ok
    assert not results["bob: ICE candidates inside 198.18.0.0/15"].ok
    assert results["bob: ICE candidates inside 198.18.0.0/15"].found == ["10.0.0.5"]


def _frame_failures(ledger: Ledger) -> list[str]:
    return [c.name for c in skeleton_checks(ledger, ALL_DOCS) if not c.ok and "frames" in c.name]


def test_no_frame_is_owed_by_a_subscription_whose_publisher_left_as_it_connected() -> None:
    ledger = _ledger(frames=0)
    sub = ledger.participants["bob"].current.subscriptions[0]
    sub.ice_connected_ms, sub.ended_ms = 1000, 1006  # churn: live for 6 ms
    assert _frame_failures(ledger) == []


def test_a_subscription_live_for_seconds_without_frames_fails() -> None:
    ledger = _ledger(frames=0)
    sub = ledger.participants["bob"].current.subscriptions[0]
    sub.ice_connected_ms, sub.ended_ms = 1000, 6000
    assert _frame_failures(ledger) == [
        "bob received video frames from alice",
        "bob received audio frames from alice",
    ]


def test_a_video_only_publisher_owes_its_viewers_no_audio() -> None:
    ledger = _ledger(frames=0)
    ledger.participants["alice"].current.publications[0].audio = False
    assert _frame_failures(ledger) == ["bob received video frames from alice"]
