"""A ``monitoringStats`` at the start and at the end of every run, asked of the collector.

The collector samples the media server's host every ``monitoring_interval_s`` (10 s); a run
shorter than that may fall between two samples and have none, and its built-in
``monitoringStats`` check could only say "n/a" (issue 15). So the runner (timeline and load
alike) asks for one sample once its ledger has started and one more before it ends: both lie
inside the run's window, and the ledger keeps their timestamps, so the checks know how many
samples the run is owed.
"""

from __future__ import annotations

import logging

from simulator.collector_client import CollectorClient, CollectorUnavailable
from simulator.ledger import Ledger

log = logging.getLogger(__name__)


async def take_host_sample(collector: CollectorClient, ledger: Ledger, when: str) -> bool:
    """Ask for a sample (``when``: "start" or "end", for the log) and keep its timestamp in
    ``ledger.host_samples_ms``; False (logged) when the collector could not take one: the run
    goes on, and its monitoringStats check says what is missing."""
    try:
        timestamp = await collector.monitoring_sample()
    except CollectorUnavailable as exc:
        log.warning("no monitoringStats at the run's %s: %s", when, exc)
        return False
    if timestamp not in ledger.host_samples_ms:
        ledger.host_samples_ms.append(timestamp)
    return True
