"""Which built-in presence checks a run owes: each applies only when its precondition holds, and
says why when it does not (issue 15: short runs failed ``monitoringStats`` at random, join-only
runs always failed ``kms``)."""

from __future__ import annotations

from simulator.ledger import ConnectionRecord, Ledger, ParticipantRecord, PublicationRecord
from simulator.verify.digest import RunDigest
from simulator.verify.schema_checks import digest_schema_checks
from simulator.verify.verdict import applicable_types


def _ledger(seconds: float, *, publishes: bool) -> Ledger:
    ledger = Ledger(run_id="r1", scenario="s", seed=1, started_ms=0, ended_ms=int(seconds * 1000))
    alice = ParticipantRecord("alice", "U1", "s", "Here, ES", "Chrome")
    alice.connections.append(ConnectionRecord("c-alice", "s-r1", 10, 9000))
    if publishes:
        alice.current.publications.append(
            PublicationRecord("c_CAMERA_A", True, True, 64, 48, 5, 20)
        )
    ledger.participants = {"alice": alice}
    return ledger


def test_a_run_longer_than_the_monitoring_interval_owes_a_sample() -> None:
    required, exempt = applicable_types(_ledger(15, publishes=True), monitoring_interval_s=10)
    assert {"monitoringStats", "kms", "webrtcStats"} <= required
    assert exempt == {}


def test_a_run_shorter_than_the_monitoring_interval_need_not_have_one() -> None:
    required, exempt = applicable_types(_ledger(6, publishes=True), monitoring_interval_s=10)
    assert "monitoringStats" not in required
    assert "between two monitoring samples" in exempt["monitoringStats"]


def test_monitoring_switched_off_owes_no_sample() -> None:
    required, exempt = applicable_types(_ledger(60, publishes=True), monitoring_interval_s=0)
    assert "monitoringStats" not in required
    assert "off" in exempt["monitoringStats"]


def test_a_join_only_run_owes_no_ice_events() -> None:
    required, exempt = applicable_types(_ledger(30, publishes=False), monitoring_interval_s=10)
    assert "kms" not in required
    assert "sessionSummary" in required
    assert "no peer connection" in exempt["kms"]


def test_a_check_that_does_not_apply_passes_saying_why() -> None:
    required, exempt = applicable_types(_ledger(6, publishes=False), monitoring_interval_s=10)
    checks = {c.name: c for c in digest_schema_checks(RunDigest.of([]), required, exempt)}
    kms = checks["kms documents present"]
    assert kms.ok
    assert str(kms.found).startswith("n/a: no participant published")
    assert checks["monitoringStats documents present"].ok
    assert not checks["cdr documents present"].ok
