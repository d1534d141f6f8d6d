"""The scenario's own expectations: structured comparisons over the run's documents.

An expectation selects documents (``type`` = elastic_type, ``filter`` = field equalities,
optionally a ``window`` between two labelled steps), aggregates one numeric field, and compares
the result with a value. Nothing in a scenario is ever evaluated as code.
"""

from __future__ import annotations

import math
from collections.abc import Sized

from simulator.driver.capabilities import ServerReport
from simulator.ledger import Ledger
from simulator.scenario.load import AnyScenario
from simulator.scenario.model import COMPARISONS, Expectation, ThroughputExpectation
from simulator.verify.checks import Check
from simulator.verify.digest import ExpectationTally, RunDigest
from simulator.verify.store_reader import Document
from simulator.verify.throughput import figure


def window_ms(expectation: Expectation, ledger: Ledger) -> tuple[int, int]:
    """The expectation's window in ms (between its labelled steps), else all time."""
    start, end = 0, 2**62
    window = expectation.window
    if window is None:
        return start, end
    stamps = {s.label: s.started_ms for s in ledger.steps if s.label is not None}
    if window.start is not None:
        start = stamps.get(window.start, start)
    if window.end is not None:
        end = stamps.get(window.end, end)
    return start, end


def tallies(scenario: AnyScenario, ledger: Ledger) -> list[ExpectationTally]:
    """One empty tally per document expectation, for a digest to fill as documents pass."""
    return [
        ExpectationTally(e, *window_ms(e, ledger))
        for e in scenario.expect
        if isinstance(e, Expectation)
    ]


def unreportable(scenario: AnyScenario, reports: frozenset[ServerReport]) -> list[str]:
    """One line per expectation on documents the server's own events cannot produce (LiveKit:
    server-side ``webrtcStats``, ``kms``): such a scenario is refused before it plays, as a step
    the server cannot do is, instead of failing at its end."""
    return [
        f"expect[{index}] ({scenario.expect[index].name!r}): {why}"
        for index, why in unreportable_expectations(scenario, reports)
    ]


def unreportable_expectations(
    scenario: AnyScenario, reports: frozenset[ServerReport], server: str = "the media server"
) -> list[tuple[int, str]]:
    """(index in ``expect``, why) for each expectation ``unreportable`` refuses."""
    problems: list[tuple[int, str]] = []
    for index, e in enumerate(scenario.expect):
        if not isinstance(e, Expectation) or e.filter.get("rtcsim_side") == "client":
            continue
        server_side = e.filter.get("rtcsim_side") == "server"
        needs = None
        if e.type == "webrtcStats" and server_side:
            needs = ServerReport.MEDIA_STATS
        elif e.type == "kms":
            needs = ServerReport.ICE_EVENTS
        if needs is not None and needs not in reports:
            problems.append(
                (
                    index,
                    f"{e.type} from the server needs {needs.value}, which {server} does not report",
                )
            )
    return problems


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(0, math.ceil(q / 100 * len(ordered)) - 1)
    return ordered[rank]


def aggregate(tally: ExpectationTally) -> float | None:
    expectation = tally.expectation
    if expectation.aggregate == "count":
        return float(tally.matched)
    values = tally.values
    if not values:
        return None
    match expectation.aggregate:
        case "sum":
            return sum(values)
        case "avg":
            return sum(values) / len(values)
        case "min":
            return min(values)
        case "max":
            return max(values)
        case "last":
            assert tally.last is not None  # set with the first numeric value
            return tally.last[1]
        case aggregate:
            return _percentile(values, float(aggregate[1:]))


def throughput_check(expectation: ThroughputExpectation, ledger: Ledger, documents: Sized) -> Check:
    wanted = f"{expectation.metric} {expectation.op} {expectation.value:g}"
    value = figure(expectation.metric, ledger, documents)
    if value is None:
        return Check(f"expect: {expectation.name}", False, wanted, "nothing measured", "")
    ok = COMPARISONS[expectation.op](value, expectation.value)
    return Check(f"expect: {expectation.name}", ok, wanted, round(value, 4), "from the ledger")


def expectation_checks(
    scenario: AnyScenario, ledger: Ledger, documents: list[Document]
) -> list[Check]:
    """The scenario's expectations over a list of documents."""
    return digest_expectation_checks(
        scenario, ledger, RunDigest.of(documents, tallies(scenario, ledger))
    )


def digest_expectation_checks(
    scenario: AnyScenario, ledger: Ledger, digest: RunDigest
) -> list[Check]:
    """The scenario's expectations, from a digest made with :func:`tallies`."""
    checks = []
    for expectation in scenario.expect:
        if isinstance(expectation, ThroughputExpectation):
            checks.append(throughput_check(expectation, ledger, digest))
            continue
        tally = digest.tally(expectation)
        assert tally is not None, "the digest was made without this scenario's tallies"
        value = aggregate(tally)
        what = f"{expectation.aggregate}({expectation.field or '*'})"
        wanted = f"{what} {expectation.op} {expectation.value:g}"
        if value is None:
            checks.append(
                Check(
                    f"expect: {expectation.name}",
                    False,
                    wanted,
                    "no numeric values",
                    f"{tally.matched} documents",
                )
            )
            continue
        ok = COMPARISONS[expectation.op](value, expectation.value)
        checks.append(
            Check(
                f"expect: {expectation.name}",
                ok,
                wanted,
                round(value, 4),
                f"{tally.matched} documents",
            )
        )
    return checks
