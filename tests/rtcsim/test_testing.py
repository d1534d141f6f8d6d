"""The assertion helpers of ``rtcsim.testing`` read a run's outcome as a test would."""

from __future__ import annotations

from pathlib import Path

import pytest

from rtcsim.pipeline.outcome import RunOutcome
from rtcsim.testing import assert_passed, check, frames_received, frames_sent
from simulator.ledger import (
    ConnectionRecord,
    Ledger,
    MediaCounters,
    ParticipantRecord,
    PublicationRecord,
    SubscriptionRecord,
)
from simulator.verify.checks import Check


def _outcome(*checks: Check) -> RunOutcome:
    ledger = Ledger(run_id="r1", scenario="s", seed=1, started_ms=0)
    alice = ParticipantRecord("alice", "U1", "s", "Here, ES", "Chrome")
    alice.connections.append(ConnectionRecord("c-alice", "s-r1", 10))
    publication = PublicationRecord("c-alice_CAMERA_A", True, True, 64, 48, 5, 20)
    publication.sent = {"video": MediaCounters(frames=50)}
    alice.current.publications.append(publication)
    bob = ParticipantRecord("bob", "U2", "s", "There, FR", "Firefox")
    for connection_id, frames in (("c-bob", 30), ("c-bob-again", 12)):  # a rejoin
        connection = ConnectionRecord(connection_id, "s-r1", 11)
        subscription = SubscriptionRecord("alice", "c-alice", "c-alice_CAMERA_A", 30)
        subscription.received = {"video": MediaCounters(frames=frames)}
        connection.subscriptions.append(subscription)
        bob.connections.append(connection)
    ledger.participants = {"alice": alice, "bob": bob}
    return RunOutcome("r1", "s", Path("results/r1"), ledger, 0, list(checks))


def test_frames_are_summed_over_every_connection_of_a_participant() -> None:
    outcome = _outcome()
    assert frames_received(outcome, "bob", "alice") == 42
    assert frames_received(outcome, "bob") == 42
    assert frames_received(outcome, "bob", "carol") == 0
    assert frames_received(outcome, "bob", kind="audio") == 0
    assert frames_sent(outcome, "alice") == 50


def test_an_unknown_participant_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match=r"no participant 'eve'.*\['alice', 'bob'\]"):
        frames_received(_outcome(), "eve")


def test_a_check_is_found_by_name_or_the_closest_are_named() -> None:
    outcome = _outcome(Check("cdr documents present", True, ">= 1", 4))
    assert check(outcome, "cdr documents present").found == 4
    with pytest.raises(KeyError, match="closest: \\['cdr documents present'\\]"):
        check(outcome, "cdr document present")


def test_assert_passed_lists_the_failed_checks() -> None:
    assert_passed(_outcome(Check("a", True, 1, 1)))
    with pytest.raises(
        AssertionError, match=r"1 of 2 checks failed[\s\S]*- b: expected 1, found 0"
    ):
        assert_passed(_outcome(Check("a", True, 1, 1), Check("b", False, 1, 0)))
