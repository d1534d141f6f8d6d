"""Every check of a run, in one place: what ``rtcsim run`` and ``rtcsim check`` both apply.

Built-in invariants hold on every run; the scenario's own expectations are added to them. The
checks are computed from a digest of the documents (``simulator.verify.digest``) and from
counts (``simulator.verify.counts``): for a stored run the documents stream past once and the
counts are Elasticsearch aggregations in the same point-in-time, and the two must agree on how
many documents of each type there are, or the read is refused as incomplete. A list of
documents gives the same checks (:func:`verify`).
"""

from __future__ import annotations

from collections.abc import Callable

from simulator.driver.capabilities import ServerReport
from simulator.ledger import Ledger
from simulator.scenario.load import AnyScenario
from simulator.verify.checks import Check
from simulator.verify.counts import RunCounts, count_stored, counts_of, own_connections
from simulator.verify.digest import RunDigest
from simulator.verify.expectations import digest_expectation_checks, tallies
from simulator.verify.foreign import foreign_checks
from simulator.verify.invariants import Tolerances, digest_invariant_checks
from simulator.verify.schema_checks import digest_schema_checks
from simulator.verify.skeleton import candidate_checks, counted_skeleton_checks
from simulator.verify.store_reader import Document, ReadBackIncomplete, StoredRun

NAMESPACE_NETWORK = "198.18.0.0/15"


MONITORING_SLACK_S = 2.0
"""A sample every interval lands in any window one interval long; the slack is for a tick the
collector runs late on a busy machine."""


def required_types(ledger: Ledger, monitoring_interval_s: float = 10.0) -> set[str]:
    """The document types this run must have produced, given what the simulator did."""
    return set(applicable_types(ledger, monitoring_interval_s)[0])


def applicable_types(
    ledger: Ledger, monitoring_interval_s: float = 10.0
) -> tuple[set[str], dict[str, str]]:
    """The document types this run must have produced, and those it need not, with why: a
    built-in presence check applies only when its precondition holds (issue 15: a run shorter
    than the monitoring interval, a join-only scenario, failed at random or always)."""
    connections = [c for p in ledger.participants.values() for c in p.connections if c.joined_ms]
    required = {"cdr"}
    exempt: dict[str, str] = {}
    duration_s = ((ledger.ended_ms or ledger.started_ms) - ledger.started_ms) / 1000
    if ledger.host_samples_ms:
        required.add("monitoringStats")  # taken on the run's demand (host_sample_checks)
    elif monitoring_interval_s <= 0:
        exempt["monitoringStats"] = "the collector's monitoring is off (monitoring_interval_s 0)"
    elif duration_s < monitoring_interval_s + MONITORING_SLACK_S:
        exempt["monitoringStats"] = (
            f"a run of {duration_s:.1f} s may fall between two monitoring samples "
            f"(every {monitoring_interval_s:g} s)"
        )
    else:
        required.add("monitoringStats")
    if connections:
        required |= {"sessionSummary", "userSummary", "connectionSummary"}
    media = [c for c in connections if c.publications or c.subscriptions]
    ice = ServerReport.ICE_EVENTS.value
    reported = ice in ledger.server.reports or ice in getattr(ledger.server, "client_reports", [])
    if media and not reported:
        exempt["kms"] = (
            f"the media server ({ledger.server.name}) reports no ICE events, "
            "and the client posted none in its stead"
        )
    elif media:
        required.add("kms")  # ICE state changes: only peer connections have them
    elif connections:
        exempt["kms"] = "no participant published or subscribed: no peer connection, no ICE"
    if any(c.publications for c in connections):
        required |= {"publisherSummary", "webrtcStats"}
    if any(c.subscriptions for c in connections):
        required.add("subscriberSummary")
    if getattr(ledger, "recordings", None):
        required.add("recordingSummary")
    return required, exempt


def verify(
    scenario: AnyScenario,
    ledger: Ledger,
    documents: list[Document],
    tolerances: Tolerances | None = None,
) -> list[Check]:
    """All checks of one run: ledger against documents, then the scenario's expectations."""
    digest = RunDigest.of(documents, tallies(scenario, ledger))
    counts = counts_of(documents, own_connections(ledger))
    return digest_checks(scenario, ledger, digest, counts, tolerances)


def digest_checks(
    scenario: AnyScenario,
    ledger: Ledger,
    digest: RunDigest,
    counts: RunCounts,
    tolerances: Tolerances | None = None,
) -> list[Check]:
    tol = tolerances or Tolerances()
    return (
        counted_skeleton_checks(ledger, counts)
        + candidate_checks(ledger, NAMESPACE_NETWORK)
        + digest_invariant_checks(ledger, digest, tol)
        + foreign_checks(ledger, digest.kept)
        + host_sample_checks(ledger, digest)
        + digest_schema_checks(digest, *applicable_types(ledger, tol.monitoring_interval_s))
        + digest_expectation_checks(scenario, ledger, digest)
    )


def host_sample_checks(ledger: Ledger, digest: RunDigest) -> list[Check]:
    """The monitoringStats the run asked for at its start and end
    (``simulator.player.host_sample``) are among its documents; none when it asked for none
    (an older ledger, or a collector that could not sample: its presence check then says)."""
    if not ledger.host_samples_ms:
        return []
    stored = {d.get("timestamp") for d in digest.host_samples}
    missing = [ts for ts in ledger.host_samples_ms if ts not in stored]
    return [
        Check(
            "the run's start and end monitoringStats are stored",
            not missing,
            f"{len(ledger.host_samples_ms)} samples at {ledger.host_samples_ms}",
            f"missing {missing}" if missing else f"{len(digest.host_samples)} in the run's window",
        )
    ]


async def verify_stored(
    run: StoredRun,
    scenario: AnyScenario,
    ledger: Ledger,
    tolerances: Tolerances | None = None,
    *,
    sink: Callable[[Document], None] | None = None,
) -> tuple[list[Check], RunDigest]:
    """All checks of a stored run: its documents streamed once into a digest (and to ``sink``,
    each), its counts by aggregation. Raises :class:`ReadBackIncomplete` when the stream and
    the aggregations disagree on what the run holds."""
    digest = RunDigest(expectations=tallies(scenario, ledger))
    async for doc in run.documents():
        digest.add(doc)
        if sink is not None:
            sink(doc)
    counts = await count_stored(run, own_connections(ledger))
    if counts.total != digest.count or counts.types != digest.types:
        raise ReadBackIncomplete(
            f"read {digest.count} documents of the run, Elasticsearch counts {counts.total} "
            f"(by type: read {dict(digest.types)}, counted {dict(counts.types)})"
        )
    return digest_checks(scenario, ledger, digest, counts, tolerances), digest
