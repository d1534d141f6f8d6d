"""What the checks need from a run's documents, gathered in one pass over them.

A big run is mostly samples (``webrtcStats``, ``kms``, ``monitoringStats``); the checks want
few of them: the summaries and the ``cdr`` events (a handful per connection), the last server
stats sample of each stream, and, of every document, only whether it is shaped like OpenVidu's
and whether a scenario expectation selects it. :class:`RunDigest` keeps exactly that while the
documents stream past (``simulator.verify.store_reader``), so its memory grows with the number
of sessions, connections and streams, not with the number of documents. A list of documents
gives the same digest (``RunDigest.of``), so a small run is checked identically either way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from simulator.scenario.model import Expectation
from simulator.verify.packets import StatsKey, stats_key
from simulator.verify.schema import VARIANTS, schema_problems, seed_examples
from simulator.verify.store_reader import Document

KEPT_TYPES = frozenset(
    {
        "cdr",
        "sessionSummary",
        "userSummary",
        "connectionSummary",
        "publisherSummary",
        "subscriberSummary",
        "recordingSummary",
    }
)
"""Types kept whole: a few per connection, and the summary and order checks read every one."""


@dataclass
class SchemaTally:
    """One document type against the seed's example: how many, how many compared, problems."""

    documents: int = 0
    compared: int = 0
    problems: set[str] = field(default_factory=set)


@dataclass
class ExpectationTally:
    """The documents one scenario expectation selects, as its aggregate needs them: their
    number, the field's numeric values, and the field's value in the latest of them."""

    expectation: Expectation
    start_ms: int
    end_ms: int
    matched: int = 0
    values: list[float] = field(default_factory=list)
    last: tuple[Any, float] | None = None
    """(timestamp, value) of the latest document with a numeric field (``aggregate: last``)."""

    def add(self, doc: Document) -> None:
        exp = self.expectation
        if doc.get("elastic_type") != exp.type:
            return
        if not self.start_ms <= int(doc.get("timestamp", 0)) <= self.end_ms:
            return
        if not all(doc.get(key) == value for key, value in exp.filter.items()):
            return
        self.matched += 1
        value: Any = doc.get(exp.field or "")
        if isinstance(value, int | float):
            stamp = doc.get("timestamp", 0)
            # A later document wins a tie, as the last of a stable sort by timestamp does.
            if self.last is None or stamp >= self.last[0]:
                self.last = (stamp, float(value))
            if not isinstance(value, bool):
                self.values.append(float(value))


@dataclass
class RunDigest:
    count: int = 0
    types: Counter[str] = field(default_factory=Counter)
    kept: list[Document] = field(default_factory=list)
    """Every document of :data:`KEPT_TYPES`, in the order read."""
    last_stats: dict[StatsKey, Document] = field(default_factory=dict)
    """The server's latest ``webrtcStats`` per (endpoint, mediaType, simulcast layer)."""
    schema: dict[str, SchemaTally] = field(default_factory=dict)
    expectations: list[ExpectationTally] = field(default_factory=list)
    host_samples: list[Document] = field(default_factory=list)
    """Every ``monitoringStats`` (one every ``monitoring_interval_s``: few), for the server's
    CPU and memory per stream (``simulator.verify.server_figures``)."""

    @classmethod
    def of(
        cls, documents: Iterable[Document], expectations: Iterable[ExpectationTally] = ()
    ) -> RunDigest:
        """The digest of a list of documents (``expectations``: the scenario's tallies,
        ``simulator.verify.expectations.tallies``)."""
        digest = cls(expectations=list(expectations))
        for doc in documents:
            digest.add(doc)
        return digest

    def __len__(self) -> int:
        """The number of documents read (what ``docs_per_second`` counts)."""
        return self.count

    def add(self, doc: Document) -> None:
        self.count += 1
        kind = doc.get("elastic_type")
        if isinstance(kind, str):
            self.types[kind] += 1
        if kind in KEPT_TYPES:
            self.kept.append(doc)
        elif kind == "monitoringStats":
            self.host_samples.append(doc)
        elif kind == "webrtcStats" and doc.get("rtcsim_side", "server") == "server":
            key = stats_key(doc)
            held = self.last_stats.get(key)
            if held is None or doc["timestamp"] >= held["timestamp"]:
                self.last_stats[key] = doc
        if isinstance(kind, str) and kind in seed_examples():
            tally = self.schema.setdefault(kind, SchemaTally())
            tally.documents += 1
            variant = VARIANTS.get(kind)
            if variant is None or variant(doc):
                tally.compared += 1
                tally.problems.update(schema_problems(kind, doc))
        for expectation in self.expectations:
            expectation.add(doc)

    def of_type(self, elastic_type: str) -> list[Document]:
        return [d for d in self.kept if d.get("elastic_type") == elastic_type]

    def tally(self, expectation: Expectation) -> ExpectationTally | None:
        return next((t for t in self.expectations if t.expectation is expectation), None)
