"""Every check of a run, in one place: what ``rtcsim run`` and ``rtcsim check`` both apply.

Built-in invariants hold on every run; the scenario's own expectations are added to them.
"""

from __future__ import annotations

from simulator.ledger import Ledger
from simulator.scenario.load import AnyScenario
from simulator.verify.checks import Check
from simulator.verify.expectations import expectation_checks
from simulator.verify.invariants import Tolerances, invariant_checks
from simulator.verify.schema import schema_checks
from simulator.verify.skeleton import candidate_checks, skeleton_checks
from simulator.verify.store_reader import Document

NAMESPACE_NETWORK = "198.18.0.0/15"


def required_types(ledger: Ledger) -> set[str]:
    """The document types this run must have produced, given what the simulator did."""
    connections = [c for p in ledger.participants.values() for c in p.connections if c.joined_ms]
    required = {"cdr", "monitoringStats"}
    if connections:
        required |= {"kms", "sessionSummary", "userSummary", "connectionSummary"}
    if any(c.publications for c in connections):
        required |= {"publisherSummary", "webrtcStats"}
    if any(c.subscriptions for c in connections):
        required.add("subscriberSummary")
    if getattr(ledger, "recordings", None):
        required.add("recordingSummary")
    return required


def verify(
    scenario: AnyScenario,
    ledger: Ledger,
    documents: list[Document],
    tolerances: Tolerances | None = None,
) -> list[Check]:
    """All checks of one run: ledger against documents, then the scenario's expectations."""
    tol = tolerances or Tolerances()
    return (
        skeleton_checks(ledger, documents)
        + candidate_checks(ledger, NAMESPACE_NETWORK)
        + invariant_checks(ledger, documents, tol)
        + schema_checks(documents, required_types(ledger))
        + expectation_checks(scenario, ledger, documents)
    )
