"""A step's verdict: the generator first, then steadiness, then every SLO."""

from __future__ import annotations

import math

from simulator.load.capacity.result import GeneratorHealth
from simulator.load.capacity.verdict import judge, shown, step_verdict
from simulator.scenario.capacity import Slo

SLOS = [
    Slo(metric="latency_p95_ms", op="<=", value=300),
    Slo(metric="join_success_ratio", op=">=", value=0.99),
]


def test_each_slo_holds_or_breaks_and_an_unmeasured_figure_breaks_it() -> None:
    held = judge(SLOS, {"latency_p95_ms": 120.0, "join_success_ratio": 1.0})
    assert [o.ok for o in held] == [True, True]
    broken = judge(SLOS, {"latency_p95_ms": None, "join_success_ratio": 0.9})
    assert [o.ok for o in broken] == [False, False]
    assert judge(SLOS[:1], {"latency_p95_ms": math.inf})[0].ok is False


def test_a_saturated_generator_voids_the_step_whatever_its_figures() -> None:
    broken = judge(SLOS, {"latency_p95_ms": 900.0, "join_success_ratio": 1.0})
    saturated = GeneratorHealth(samples=4, saturated_samples=3, saturated=True, reason="busy")
    assert step_verdict(saturated, True, broken, 60) == ("generator", "busy")
    verdict, why = step_verdict(GeneratorHealth(), True, broken, 60)
    assert verdict == "slo"
    assert why == "latency_p95_ms 900 (SLO <= 300)"
    assert step_verdict(GeneratorHealth(), False, broken, 60)[0] == "unsteady"
    assert step_verdict(
        GeneratorHealth(), True, judge(SLOS[1:], {"join_success_ratio": 1}), 60
    ) == (
        "good",
        "every SLO held",
    )


def test_figures_read_as_numbers_never_or_not_measured() -> None:
    assert [shown(None), shown(math.inf), shown(12.345)] == ["not measured", "never", "12.35"]
