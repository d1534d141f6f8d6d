"""Which built-in presence checks a run owes: each applies only when its precondition holds, and
says why when it does not (issue 15: short runs failed ``monitoringStats`` at random, join-only
runs always failed ``kms``)."""

from __future__ import annotations

from simulator.ledger import ConnectionRecord, Ledger, ParticipantRecord, PublicationRecord
from simulator.verify.digest import RunDigest
from simulator.verify.schema_checks import digest_schema_checks
from simulator.verify.verdict import applicable_types, host_sample_checks


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


def test_a_short_run_with_its_start_and_end_samples_owes_them() -> None:
    ledger = _ledger(3, publishes=True)
    ledger.host_samples_ms = [100, 2900]
    required, exempt = applicable_types(ledger, monitoring_interval_s=10)
    assert "monitoringStats" in required
    assert "monitoringStats" not in exempt


def test_the_start_and_end_samples_check_names_a_missing_one() -> None:
    ledger = _ledger(3, publishes=True)
    ledger.host_samples_ms = [100, 2900]
    digest = RunDigest.of([{"elastic_type": "monitoringStats", "timestamp": 100}])
    [check] = host_sample_checks(ledger, digest)
    assert not check.ok
    assert check.found == "missing [2900]"
    digest.add({"elastic_type": "monitoringStats", "timestamp": 2900})
    assert host_sample_checks(ledger, digest)[0].ok


def test_a_ledger_without_samples_asked_has_no_sample_check() -> None:
    assert host_sample_checks(_ledger(3, publishes=True), RunDigest.of([])) == []
