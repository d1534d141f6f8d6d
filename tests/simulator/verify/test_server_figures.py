"""Janus's CPU and memory per open stream, from monitoringStats samples and the ledger."""

from __future__ import annotations

from simulator.ledger import (
    ConnectionRecord,
    Ledger,
    ParticipantRecord,
    PublicationRecord,
    SubscriptionRecord,
)
from simulator.verify.server_figures import (
    server_cpu_per_stream_pct,
    server_rss_per_stream_kb,
    stream_intervals,
    streams_at,
)


def _ledger() -> Ledger:
    """A publication 0-10 s, subscriptions 2-10 s and 5-8 s."""
    pub = ConnectionRecord("a", "s", joined_ms=0)
    pub.publications.append(PublicationRecord("st", True, True, 640, 480, 30, 0, ended_ms=10_000))
    sub = ConnectionRecord("b", "s", joined_ms=0)
    sub.subscriptions.append(SubscriptionRecord("a", "a", "st", 2000, ended_ms=10_000))
    sub.subscriptions.append(SubscriptionRecord("a", "a", "st", 5000, ended_ms=8000))
    ledger = Ledger("run", "s", 0, started_ms=0, ended_ms=10_000)
    ledger.participants["a"] = ParticipantRecord("a", "u", "r", "x", "y", [pub])
    ledger.participants["b"] = ParticipantRecord("b", "u", "r", "x", "y", [sub])
    return ledger


def _sample(at_ms: int, cpu: float | None, rss: int = 30_000) -> dict[str, object]:
    return {
        "elastic_type": "monitoringStats",
        "timestamp": at_ms,
        "janus_cpu": cpu,
        "janus_rss_kb": rss,
    }


def test_streams_open_at_an_instant_count_publications_and_subscriptions() -> None:
    intervals = stream_intervals(_ledger())
    assert [streams_at(intervals, t) for t in (1000, 3000, 6000, 9000, 10_000)] == [1, 2, 3, 2, 0]


def test_cpu_per_stream_averages_each_sample_over_the_streams_then_open() -> None:
    docs = [_sample(1000, 10.0), _sample(6000, 30.0), _sample(10_500, 50.0), _sample(3000, None)]
    # 10 / 1 and 30 / 3; the sample after the end had no stream, the other sampled no Janus.
    assert server_cpu_per_stream_pct(_ledger(), docs) == 10.0
    assert server_rss_per_stream_kb(_ledger(), [_sample(3000, 1.0, 40_000)]) == 20_000.0
    assert server_cpu_per_stream_pct(_ledger(), [{"elastic_type": "cdr"}]) is None


def test_a_runs_digest_keeps_the_host_samples_the_server_figures_need() -> None:
    from simulator.verify.digest import RunDigest
    from simulator.verify.throughput import figure

    digest = RunDigest.of([_sample(1000, 10.0), {"elastic_type": "cdr", "timestamp": 5}])
    assert len(digest.host_samples) == 1
    assert figure("server_cpu_per_stream_pct", _ledger(), digest) == 10.0
    assert figure("server_cpu_per_stream_pct", _ledger(), range(2)) is None  # a mere count
