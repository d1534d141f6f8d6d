"""A step judged: every SLO against the step's figures, then the step's verdict.

The order of the reasons matters: a step whose generator was saturated is **invalid** whatever
its figures say (they may be the generator's own lateness), so that is looked at first; then a
step that never became steady; then the SLOs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from simulator.load.capacity.result import GeneratorHealth, SloOutcome, Verdict
from simulator.scenario.capacity import Slo
from simulator.scenario.model import COMPARISONS


def judge(slos: Sequence[Slo], figures: Mapping[str, float | None]) -> list[SloOutcome]:
    """Each SLO held or not; a figure the step could not measure breaks its SLO (a level
    nobody could see hold is not shown to hold)."""
    outcomes = []
    for slo in slos:
        found = figures.get(slo.metric)
        ok = found is not None and COMPARISONS[slo.op](found, slo.value)
        shown = found if found is None or math.isinf(found) else round(found, 4)
        outcomes.append(SloOutcome(slo.label, slo.metric, slo.op, slo.value, shown, ok))
    return outcomes


def step_verdict(
    generator: GeneratorHealth, steady: bool, slo: Sequence[SloOutcome], settle_timeout_s: float
) -> tuple[Verdict, str]:
    """The verdict and a line saying why."""
    if generator.saturated:
        return "generator", generator.reason or "the generator was saturated"
    if not steady:
        return "unsteady", f"the step's newcomers were not all in within {settle_timeout_s:g} s"
    broken = [o for o in slo if not o.ok]
    if broken:
        return "slo", "; ".join(
            f"{o.metric} {shown(o.found)} (SLO {o.op} {o.value:g})" for o in broken
        )
    return "good", "every SLO held"


def shown(found: float | None) -> str:
    """A figure as a verdict line says it: "never" is a join, ICE or frame that never came."""
    if found is None:
        return "not measured"
    return "never" if math.isinf(found) else f"{found:.4g}"
