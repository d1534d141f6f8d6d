"""Typed helpers for the assertions a test of a run makes most (the pytest plugin's fixtures return
a ``RunOutcome``): what a participant received or sent, one check by name, the whole verdict with
the failed checks listed. They read the ledger (``results/<run-id>/ledger.json``), which records
what the simulator really did, so a test need not know its layout::

    def test_bob_sees_alice(rtcsim_run):
        outcome = rtcsim_run("smoke")
        assert_passed(outcome)
        assert frames_received(outcome, "bob", "alice") > 300
"""

from __future__ import annotations

from typing import Literal

from rtcsim.pipeline.outcome import RunOutcome, verdict_text
from simulator.ledger import ParticipantRecord
from simulator.verify.checks import Check

Kind = Literal["video", "audio"]


def participant(outcome: RunOutcome, name: str) -> ParticipantRecord:
    """The ledger's record of a participant of the scenario (``KeyError`` naming the known)."""
    people = outcome.ledger.participants
    if name not in people:
        raise KeyError(f"no participant {name!r} in run {outcome.run_id}; known: {sorted(people)}")
    return people[name]


def frames_received(
    outcome: RunOutcome, subscriber: str, publisher: str | None = None, kind: Kind = "video"
) -> int:
    """Frames of ``kind`` the subscriber received, from one publisher or from all, over every
    connection (a rejoin's too)."""
    total = 0
    for connection in participant(outcome, subscriber).connections:
        for subscription in connection.subscriptions:
            if publisher is None or subscription.publisher == publisher:
                counters = subscription.received.get(kind)
                total += counters.frames if counters is not None else 0
    return total


def frames_sent(outcome: RunOutcome, publisher: str, kind: Kind = "video") -> int:
    """Frames of ``kind`` the publisher sent, over every connection."""
    total = 0
    for connection in participant(outcome, publisher).connections:
        for publication in connection.publications:
            counters = publication.sent.get(kind)
            total += counters.frames if counters is not None else 0
    return total


def check(outcome: RunOutcome, name: str) -> Check:
    """The run's check of that name (``KeyError`` with the closest names)."""
    import difflib

    by_name = {c.name: c for c in outcome.checks}
    if name not in by_name:
        close = difflib.get_close_matches(name, list(by_name), n=3, cutoff=0.4)
        raise KeyError(f"no check {name!r} in run {outcome.run_id}; closest: {close}")
    return by_name[name]


def assert_passed(outcome: RunOutcome) -> None:
    """Every check passed and the run is valid; else an ``AssertionError`` listing what failed."""
    if outcome.passed and outcome.valid:
        return
    failed = [f"  - {c.name}: expected {c.expected}, found {c.found}" for c in outcome.checks]
    failed = [line for c, line in zip(outcome.checks, failed, strict=True) if not c.ok]
    lines = [f"run {outcome.run_id} ({outcome.scenario}): {verdict_text(outcome)}", *failed]
    raise AssertionError("\n".join([*lines, f"results in {outcome.results_dir}"]))
