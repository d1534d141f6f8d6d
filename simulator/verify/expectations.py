"""The scenario's own expectations: structured comparisons over the run's documents.

An expectation selects documents (``type`` = elastic_type, ``filter`` = field equalities,
optionally a ``window`` between two labelled steps), aggregates one numeric field, and compares
the result with a value. Nothing in a scenario is ever evaluated as code.
"""

from __future__ import annotations

import math
from typing import Any

from simulator.ledger import Ledger
from simulator.scenario.load import AnyScenario
from simulator.scenario.model import COMPARISONS, Expectation, ThroughputExpectation
from simulator.verify.checks import Check
from simulator.verify.store_reader import Document
from simulator.verify.throughput import figure


def _window_ms(expectation: Expectation, ledger: Ledger) -> tuple[int, int]:
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


def _matches(doc: Document, expectation: Expectation, start: int, end: int) -> bool:
    if doc.get("elastic_type") != expectation.type:
        return False
    if not start <= int(doc.get("timestamp", 0)) <= end:
        return False
    return all(doc.get(key) == value for key, value in expectation.filter.items())


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(0, math.ceil(q / 100 * len(ordered)) - 1)
    return ordered[rank]


def aggregate(expectation: Expectation, docs: list[Document]) -> float | None:
    if expectation.aggregate == "count":
        return float(len(docs))
    values: list[float] = []
    for doc in docs:
        value: Any = doc.get(expectation.field or "")
        if isinstance(value, int | float) and not isinstance(value, bool):
            values.append(float(value))
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
            ordered = sorted(
                (d for d in docs if isinstance(d.get(expectation.field or ""), int | float)),
                key=lambda d: d.get("timestamp", 0),
            )
            return float(ordered[-1][expectation.field or ""])
        case aggregate:
            return _percentile(values, float(aggregate[1:]))


def throughput_check(
    expectation: ThroughputExpectation, ledger: Ledger, documents: list[Document]
) -> Check:
    wanted = f"{expectation.metric} {expectation.op} {expectation.value:g}"
    value = figure(expectation.metric, ledger, documents)
    if value is None:
        return Check(f"expect: {expectation.name}", False, wanted, "nothing measured", "")
    ok = COMPARISONS[expectation.op](value, expectation.value)
    return Check(f"expect: {expectation.name}", ok, wanted, round(value, 4), "from the ledger")


def expectation_checks(
    scenario: AnyScenario, ledger: Ledger, documents: list[Document]
) -> list[Check]:
    checks = []
    for expectation in scenario.expect:
        if isinstance(expectation, ThroughputExpectation):
            checks.append(throughput_check(expectation, ledger, documents))
            continue
        start, end = _window_ms(expectation, ledger)
        docs = [d for d in documents if _matches(d, expectation, start, end)]
        value = aggregate(expectation, docs)
        what = f"{expectation.aggregate}({expectation.field or '*'})"
        wanted = f"{what} {expectation.op} {expectation.value:g}"
        if value is None:
            checks.append(
                Check(
                    f"expect: {expectation.name}",
                    False,
                    wanted,
                    "no numeric values",
                    f"{len(docs)} documents",
                )
            )
            continue
        ok = COMPARISONS[expectation.op](value, expectation.value)
        checks.append(
            Check(
                f"expect: {expectation.name}", ok, wanted, round(value, 4), f"{len(docs)} documents"
            )
        )
    return checks
