"""Scenario expectations: structured assertions over the run's documents (``Expectation``) or
targets over the whole run (``ThroughputExpectation``). Nothing in them is ever evaluated as
code; which types and fields an expectation may name is checked against the documents' schema
before a run (``simulator.validation``)."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from simulator.scenario.base import Name, Strict

COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    ">": operator.gt,
}
AGGREGATES = ("count", "sum", "avg", "min", "max", "p50", "p95", "p99", "last")


class Window(Strict):
    """Limit an expectation to documents timestamped between two labelled steps."""

    start: Name | None = Field(None, alias="from")
    end: Name | None = Field(None, alias="to")


class Expectation(Strict):
    """A structured assertion over the run's documents (no expressions are ever evaluated)."""

    name: str = Field(min_length=1, max_length=200)
    type: str = Field(description="elastic_type, e.g. webrtcStats, cdr, subscriberSummary")
    filter: dict[str, str | int | float | bool] = Field(default_factory=dict)
    field: str | None = Field(None, description="numeric field; not needed for count")
    aggregate: Literal["count", "sum", "avg", "min", "max", "p50", "p95", "p99", "last"]
    op: Literal["<", "<=", "==", "!=", ">=", ">"]
    value: float
    window: Window | None = None

    @model_validator(mode="after")
    def _field_for_numbers(self) -> Expectation:
        if self.aggregate != "count" and not self.field:
            raise ValueError(f"aggregate {self.aggregate!r} needs a field")
        return self


THROUGHPUT_METRICS = {
    "peers_held": "the most connections joined at the same time",
    "sessions_per_second": "connections that joined, per second of the run",
    "join_success_ratio": "connections that joined / connections attempted (0..1)",
    "ice_p50_ms": "p50 of offer to ICE connected (webrtcup), publications and subscriptions",
    "ice_p95_ms": "p95 of offer to ICE connected (webrtcup), publications and subscriptions",
    "first_frame_p50_ms": "p50 of subscription start to its first complete video frame",
    "first_frame_p95_ms": "p95 of subscription start to its first complete video frame",
    "latency_p50_ms": "p50 of one-way latency, publisher to subscriber, of every video frame",
    "latency_p95_ms": "p95 of one-way latency, publisher to subscriber, of every video frame",
    "subscriber_loss_pct": "RTP packets lost (before repair) per 100 expected, all subscriptions",
    "jitter_p95_ms": "p95 over subscriptions of their interarrival jitter (audio and video)",
    "video_fps_p5": "the frame rate 95 % of video subscriptions received at least",
    "docs_per_second": "documents the collector stored for the run, per second of the run",
    "server_cpu_per_stream_pct": "Janus's CPU (% of one core) per open stream (monitoringStats)",
    "server_rss_per_stream_kb": "Janus's resident memory per open stream (monitoringStats)",
}
ThroughputMetric = Literal[
    "peers_held",
    "sessions_per_second",
    "join_success_ratio",
    "ice_p50_ms",
    "ice_p95_ms",
    "first_frame_p50_ms",
    "first_frame_p95_ms",
    "latency_p50_ms",
    "latency_p95_ms",
    "subscriber_loss_pct",
    "jitter_p95_ms",
    "video_fps_p5",
    "docs_per_second",
    "server_cpu_per_stream_pct",
    "server_rss_per_stream_kb",
]


class ThroughputExpectation(Strict):
    """A target over the whole run, computed from the ledger (what the generator did) and the
    count of documents stored, e.g. ``{metric: join_success_ratio, op: ">=", value: 0.99}``."""

    name: str = Field(min_length=1, max_length=200)
    metric: ThroughputMetric = Field(
        description="; ".join(f"{k}: {v}" for k, v in THROUGHPUT_METRICS.items())
    )
    op: Literal["<", "<=", "==", "!=", ">=", ">"]
    value: float


def _expectation_kind(value: object) -> str:
    if isinstance(value, dict):
        return "throughput" if "metric" in value else "documents"
    return "throughput" if isinstance(value, ThroughputExpectation) else "documents"


ExpectItem = Annotated[
    Annotated[Expectation, Tag("documents")] | Annotated[ThroughputExpectation, Tag("throughput")],
    Discriminator(_expectation_kind),
]
