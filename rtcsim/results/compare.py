"""Comparing two runs, metric by metric, as Elastic's ``esrally compare`` compares two races.

A run's figures are what its ``summary.json`` says (``throughput``: the ledger's and the
documents' figures, ``simulator.verify.throughput``) plus, for a capacity search, the capacity
it found (``capacity.capacity_rooms``). Each metric knows which way is worse. A **threshold**
says how much worse the candidate may be before it is a regression: relative (``20%``),
absolute in the metric's unit (``0.5``), or both (``20%+25``: worse by more than 20 % *and* by
more than 25, so that noise on tiny values is not a regression). A metric missing from either
run is shown, never judged. Two capacity searches that held the server to different CPU budgets
(``capacity.server_cpu_cores``) measured different servers: their capacity and CPU per stream
are shown as ``incomparable`` and the comparison says why.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson
import yaml

from rtcsim.results.folders import ResultsError

Better = Literal["lower", "higher"]
Verdict = Literal["regression", "worse", "better", "same", "missing", "incomparable"]

BUDGET_BOUND = ("capacity_rooms", "server_cpu_per_stream_pct")
"""The metrics a CPU budget on the server decides: not judged across different budgets."""


@dataclass(frozen=True)
class MetricInfo:
    label: str
    better: Better
    unit: str = ""


METRICS: dict[str, MetricInfo] = {
    "join_success_ratio": MetricInfo("join success", "higher"),
    "ice_p50_ms": MetricInfo("ICE p50", "lower", "ms"),
    "ice_p95_ms": MetricInfo("ICE p95", "lower", "ms"),
    "first_frame_p50_ms": MetricInfo("first frame p50", "lower", "ms"),
    "first_frame_p95_ms": MetricInfo("first frame p95", "lower", "ms"),
    "latency_p50_ms": MetricInfo("latency p50", "lower", "ms"),
    "latency_p95_ms": MetricInfo("latency p95", "lower", "ms"),
    "subscriber_loss_pct": MetricInfo("subscriber loss", "lower", "%"),
    "jitter_p95_ms": MetricInfo("jitter p95", "lower", "ms"),
    "video_fps_p5": MetricInfo("video fps p5", "higher", "fps"),
    "server_cpu_per_stream_pct": MetricInfo("server CPU per stream", "lower", "% core"),
    "docs_per_second": MetricInfo("documents per second", "higher", "/s"),
    "capacity_rooms": MetricInfo("capacity", "higher", "rooms"),
}

DEFAULT_THRESHOLDS: dict[str, str] = {
    "join_success_ratio": "0.01",
    "ice_p50_ms": "50%+500",
    "ice_p95_ms": "100%+1500",
    "first_frame_p50_ms": "50%+500",
    "first_frame_p95_ms": "100%+1500",
    "latency_p50_ms": "50%+20",
    "latency_p95_ms": "100%+100",
    "subscriber_loss_pct": "1",
    "jitter_p95_ms": "100%+20",
    "video_fps_p5": "20%",
    "server_cpu_per_stream_pct": "50%+0.5",
    "docs_per_second": "50%",
    "capacity_rooms": "step",
}
"""Loose enough that two clean runs on a busy shared machine pass (there a p95 of ICE or first
frames is often one connection's ~1 s retry, and a burst of other work adds tens of ms to
latency), tight enough that a point more of loss, a doubled latency or a lost capacity step
fails. ``step``: more than one step of the baseline's search fewer rooms (a rerun lands on
the same step or the next one). ``--fail-on`` and ``--thresholds`` tighten them."""

_LIMIT = re.compile(r"^\s*(?:(?P<pct>\d+(?:\.\d+)?)\s*%)?\s*\+?\s*(?P<abs>\d+(?:\.\d+)?)?\s*$")


class ThresholdError(ValueError):
    """A threshold that cannot be read; the message names it."""


@dataclass(frozen=True)
class Threshold:
    relative_pct: float | None = None
    absolute: float | None = None
    steps: bool = False

    @classmethod
    def parse(cls, metric: str, text: str) -> Threshold:
        spec = str(text).strip()
        if spec == "step":
            return cls(steps=True)
        match = _LIMIT.match(spec)
        if not spec or match is None or not (match["pct"] or match["abs"]):
            raise ThresholdError(
                f"{metric}: threshold {text!r}: write 20% (relative), 0.5 (absolute), "
                "20%+25 (both) or step (capacity)"
            )
        pct, absolute = match["pct"], match["abs"]
        return cls(float(pct) if pct else None, float(absolute) if absolute else None)

    def breached(self, worse_by: float, baseline: float, step: float | None) -> bool:
        """Is the candidate worse by more than this (``worse_by`` > 0 means worse)?"""
        if worse_by <= 0:
            return False
        if self.steps:
            return worse_by > (step or 0)
        checks = []
        if self.relative_pct is not None:
            relative = worse_by / abs(baseline) * 100 if baseline else math.inf
            checks.append(relative > self.relative_pct)
        if self.absolute is not None:
            checks.append(worse_by > self.absolute)
        return all(checks)

    def __str__(self) -> str:
        if self.steps:
            return "> 1 step"
        parts = []
        if self.relative_pct is not None:
            parts.append(f"{self.relative_pct:g}%")
        if self.absolute is not None:
            parts.append(f"{self.absolute:g}")
        return "+".join(parts)


def parse_thresholds(entries: Mapping[str, Any]) -> dict[str, Threshold]:
    """``{metric: limit}``: unknown metrics are an error that lists the known ones."""
    parsed = {}
    for metric, text in entries.items():
        if metric not in METRICS:
            raise ThresholdError(f"unknown metric {metric!r}; known: {', '.join(sorted(METRICS))}")
        parsed[metric] = Threshold.parse(metric, str(text))
    return parsed


def parse_fail_on(items: list[str]) -> dict[str, Threshold]:
    """``--fail-on METRIC=LIMIT`` entries."""
    entries: dict[str, str] = {}
    for item in items:
        metric, sep, limit = item.partition("=")
        if not sep:
            raise ThresholdError(f"--fail-on {item!r}: write METRIC=LIMIT, e.g. latency_p95_ms=20%")
        entries[metric.strip()] = limit
    return parse_thresholds(entries)


def read_thresholds_file(path: Path) -> dict[str, Threshold]:
    """A YAML file: ``thresholds: {metric: limit, ...}`` (or the mapping at its top)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ThresholdError(f"{path}: cannot read thresholds: {exc}") from exc
    if isinstance(data, dict) and isinstance(data.get("thresholds"), dict):
        data = data["thresholds"]
    if not isinstance(data, dict):
        raise ThresholdError(f"{path}: thresholds are a mapping of metric: limit")
    try:
        return parse_thresholds(data)
    except ThresholdError as exc:
        raise ThresholdError(f"{path}: {exc}") from exc


# -- a run's figures ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RunFigures:
    run_id: str
    scenario: str
    folder: Path
    figures: dict[str, float | None]
    capacity_step_rooms: float | None = None
    valid: bool = True
    server_cpu_cores: float | None = None
    """The CPU budget the server was held to during a capacity search (None: no budget)."""


def read_run(folder: Path) -> RunFigures:
    """The figures of the run in ``folder`` (its ``summary.json``)."""
    try:
        summary = orjson.loads((folder / "summary.json").read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise ResultsError(f"{folder}: no readable summary.json ({exc})") from exc
    figures: dict[str, float | None] = {
        metric: _number(summary.get("throughput", {}).get(metric)) for metric in METRICS
    }
    capacity = summary.get("capacity")
    step_rooms = None
    budget = None
    if isinstance(capacity, dict):
        budget = _number(capacity.get("server_cpu_cores"))
        figures["capacity_rooms"] = _number(capacity.get("capacity_rooms"))
        rooms = [s.get("rooms") for s in capacity.get("steps", [])]
        if len(rooms) > 1:
            step_rooms = float(rooms[1] - rooms[0])
        elif rooms:
            step_rooms = float(rooms[0])
    return RunFigures(
        run_id=str(summary.get("run_id", folder.name)),
        scenario=str(summary.get("scenario", "")),
        folder=folder,
        figures=figures,
        capacity_step_rooms=step_rooms,
        valid=bool(summary.get("valid", True)),
        server_cpu_cores=budget,
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return None
    return float(value)


# -- the comparison ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    metric: str
    label: str
    unit: str
    better: Better
    baseline: float | None
    candidate: float | None
    threshold: str
    verdict: Verdict

    @property
    def diff(self) -> float | None:
        if self.baseline is None or self.candidate is None:
            return None
        return self.candidate - self.baseline

    @property
    def change_pct(self) -> float | None:
        diff = self.diff
        if diff is None or not self.baseline:
            return None
        return diff / abs(self.baseline) * 100


@dataclass
class Comparison:
    baseline: RunFigures
    candidate: RunFigures
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def regressions(self) -> list[Row]:
        return [row for row in self.rows if row.verdict == "regression"]

    @property
    def passed(self) -> bool:
        return not self.regressions

    def as_dict(self) -> dict[str, Any]:
        return {
            "baseline": {"run_id": self.baseline.run_id, "scenario": self.baseline.scenario},
            "candidate": {"run_id": self.candidate.run_id, "scenario": self.candidate.scenario},
            "passed": self.passed,
            "regressions": [row.metric for row in self.regressions],
            "notes": list(self.notes),
            "metrics": [
                {
                    "metric": row.metric,
                    "label": row.label,
                    "unit": row.unit,
                    "better": row.better,
                    "baseline": row.baseline,
                    "candidate": row.candidate,
                    "diff": row.diff,
                    "change_pct": row.change_pct,
                    "threshold": row.threshold,
                    "verdict": row.verdict,
                }
                for row in self.rows
            ],
        }

    def markdown(self) -> str:
        """A table for a CI comment: one row per metric, regressions in bold."""
        verdict = "no regression" if self.passed else f"{len(self.regressions)} regression(s)"
        lines = [
            f"### rtcsim compare: {self.candidate.run_id} against {self.baseline.run_id}: "
            f"{verdict}",
            "",
            "| metric | baseline | candidate | change | threshold | verdict |",
            "|---|---:|---:|---:|---|---|",
        ]
        for row in self.rows:
            mark = "**regression**" if row.verdict == "regression" else row.verdict
            lines.append(
                f"| {row.label} | {show(row.baseline, row.unit)} | "
                f"{show(row.candidate, row.unit)} | {change(row)} | {row.threshold} | {mark} |"
            )
        lines.extend(["", *(f"Note: {note}" for note in self.notes)] if self.notes else [])
        return "\n".join(lines) + "\n"


def show(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value:.4g}"
    return f"{text} {unit}".strip()


def change(row: Row) -> str:
    diff, pct = row.diff, row.change_pct
    if diff is None:
        return "—"
    text = f"{diff:+.4g}"
    return f"{text} ({pct:+.1f} %)" if pct is not None else text


def compare(
    baseline: RunFigures,
    candidate: RunFigures,
    thresholds: Mapping[str, Threshold] | None = None,
) -> Comparison:
    """Every metric of either run; regressions by ``thresholds`` (default: the defaults)."""
    limits = dict(thresholds) if thresholds is not None else parse_thresholds(DEFAULT_THRESHOLDS)
    comparison = Comparison(baseline, candidate)
    budgets_differ = baseline.server_cpu_cores != candidate.server_cpu_cores
    if budgets_differ:
        comparison.notes.append(
            f"the server's CPU budget was {_budget(baseline)} in the baseline and "
            f"{_budget(candidate)} in the candidate: capacity and CPU per stream are not "
            "comparable, so not judged"
        )
    for metric, info in METRICS.items():
        before, after = baseline.figures.get(metric), candidate.figures.get(metric)
        if before is None and after is None:
            continue
        limit = limits.get(metric)
        verdict: Verdict = (
            "incomparable"
            if budgets_differ and metric in BUDGET_BOUND
            else _verdict(info, before, after, limit, baseline.capacity_step_rooms)
        )
        comparison.rows.append(
            Row(
                metric=metric,
                label=info.label,
                unit=info.unit,
                better=info.better,
                baseline=before,
                candidate=after,
                threshold=str(limit) if limit is not None else "",
                verdict=verdict,
            )
        )
    return comparison


def _budget(run: RunFigures) -> str:
    cores = run.server_cpu_cores
    return "none" if cores is None else f"{cores:g} core"


def _verdict(
    info: MetricInfo,
    before: float | None,
    after: float | None,
    limit: Threshold | None,
    step: float | None,
) -> Verdict:
    if before is None or after is None:
        return "missing"
    worse_by = after - before if info.better == "lower" else before - after
    if limit is not None and limit.breached(worse_by, before, step):
        return "regression"
    if worse_by > 0:
        return "worse"
    return "better" if worse_by < 0 else "same"
