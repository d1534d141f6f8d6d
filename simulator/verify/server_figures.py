"""What the media server spent per stream, from the collector's ``monitoringStats``.

The collector's host probe samples the Janus process itself (``janus_cpu``: percent of one
core since the previous sample, psutil's semantics; ``janus_rss_kb``), so other work on a
shared machine does not count. A *stream* is one media stream through the server: each
publication (the server receives it) and each subscription (the server sends it) counts one,
audio and video together. Per-stream figures divide each sample by the streams open at its
time (from the ledger) and average over the samples that had any.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence, Sized
from dataclasses import dataclass

from simulator.ledger import Ledger
from simulator.verify.store_reader import Document


@dataclass(frozen=True)
class Interval:
    start_ms: int
    end_ms: int | None

    def covers(self, at_ms: int) -> bool:
        return self.start_ms <= at_ms and (self.end_ms is None or at_ms < self.end_ms)


def stream_intervals(ledger: Ledger) -> list[Interval]:
    """Every publication and subscription the run held, from its start to its end."""
    intervals: list[Interval] = []
    for participant in ledger.participants.values():
        for conn in participant.connections:
            for pub in conn.publications:
                intervals.append(Interval(pub.started_ms, pub.ended_ms))
            for sub in conn.subscriptions:
                intervals.append(Interval(sub.started_ms, sub.ended_ms))
    return intervals


def streams_at(intervals: Sequence[Interval], at_ms: int) -> int:
    return sum(1 for interval in intervals if interval.covers(at_ms))


def janus_samples(documents: Sized) -> list[Document]:
    """The run's monitoringStats that sampled the Janus process, in time order: from a list of
    documents, or what a run's digest kept of them (``host_samples``); none from a mere count."""
    held = getattr(documents, "host_samples", documents)
    if not isinstance(held, list):
        return []
    found = [
        d
        for d in held
        if isinstance(d, dict)
        and d.get("elastic_type") == "monitoringStats"
        and d.get("janus_cpu") is not None
    ]
    return sorted(found, key=lambda d: int(d.get("timestamp", 0)))


def per_stream(samples: Iterable[Document], field: str, streams: Iterable[int]) -> float | None:
    """The mean over samples of ``field`` / streams then open (samples with none left out)."""
    values = [
        float(sample[field]) / count
        for sample, count in zip(samples, streams, strict=True)
        if count > 0 and isinstance(sample.get(field), int | float)
    ]
    return sum(values) / len(values) if values else None


def _per_stream_of_run(ledger: Ledger, documents: Sized, field: str) -> float | None:
    samples = janus_samples(documents)
    intervals = stream_intervals(ledger)
    counts = [streams_at(intervals, int(s["timestamp"])) for s in samples]
    return per_stream(samples, field, counts)


def server_cpu_per_stream_pct(ledger: Ledger, documents: Sized) -> float | None:
    """Janus's CPU (percent of one core) per open stream, averaged over the run's samples."""
    return _per_stream_of_run(ledger, documents, "janus_cpu")


def server_rss_per_stream_kb(ledger: Ledger, documents: Sized) -> float | None:
    """Janus's resident memory per open stream (its idle footprint included)."""
    return _per_stream_of_run(ledger, documents, "janus_rss_kb")
