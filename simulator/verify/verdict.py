"""Every check of a run, in one place: what ``rtcsim run`` and ``rtcsim check`` both apply.

Built-in invariants hold on every run; the scenario's own expectations are added to them.
"""

from __future__ import annotations

from simulator.run.ledger import Ledger
from simulator.scenario.model import Scenario
from simulator.verify.checks import Check
from simulator.verify.skeleton import candidate_checks, skeleton_checks
from simulator.verify.store_reader import Document

NAMESPACE_NETWORK = "198.18.0.0/15"


def verify(scenario: Scenario, ledger: Ledger, documents: list[Document]) -> list[Check]:
    """All checks of one run: ledger against documents, then the scenario's expectations."""
    return skeleton_checks(ledger, documents) + candidate_checks(ledger, NAMESPACE_NETWORK)
