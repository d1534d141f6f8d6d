"""A run's documents counted, by Elasticsearch aggregations or over a list, the same way.

What the ``cdr`` count checks compare with the ledger, and what tells whether the collector has
written everything yet, are counts: by ``elastic_type``, by ``cdr`` event (only the run's own
connections: a participant the ledger does not know is foreign, ``simulator.verify.foreign``),
and the recordings that reached a final status. Elasticsearch answers them in one ``size: 0``
search, so waiting for a 50,000-document run to settle reads no document at all.

Every ``terms`` aggregation here asks for more buckets than its field has values (ten document
types, a dozen cdr events) and the answer is refused if Elasticsearch says it left any out
(``sum_other_doc_count``): a count is whole or it is an error, never a cap.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from simulator.ledger import Ledger
from simulator.verify.store_reader import Document, ReadBackIncomplete, StoredRun

TERMS_SIZE = 1_000
"""Buckets asked of a ``terms`` aggregation over a field with a handful of values."""
FINAL_RECORDING = ("ready", "failed")


def own_connections(ledger: Ledger) -> frozenset[str]:
    """Every connection id the simulator made (joined or only attempted)."""
    return frozenset(c.connection_id for p in ledger.participants.values() for c in p.connections)


def connection_of(doc: Document) -> Any:
    return doc.get("connectionId", doc.get("participantId"))


def is_ours(doc: Document, ours: frozenset[str]) -> bool:
    """A document of the run's own connections, or of no connection (a session's)."""
    conn = connection_of(doc)
    return conn is None or conn in ours


@dataclass
class RunCounts:
    total: int = 0
    types: Counter[str] = field(default_factory=Counter)
    cdr_events: Counter[str] = field(default_factory=Counter)
    """``cdr`` documents by event, the foreign participants' left out."""
    final_recordings: int = 0


def counts_of(documents: Iterable[Document], ours: frozenset[str]) -> RunCounts:
    """The counts of a list of documents (unit tests, an NDJSON export)."""
    counts = RunCounts()
    for doc in documents:
        counts.total += 1
        kind = doc.get("elastic_type")
        if isinstance(kind, str):
            counts.types[kind] += 1
        if kind == "cdr" and is_ours(doc, ours):
            counts.cdr_events[str(doc.get("event"))] += 1
        if doc.get("event") == "recordingStatusChanged" and doc.get("status") in FINAL_RECORDING:
            counts.final_recordings += 1
    return counts


def _ours_filter(ours: frozenset[str]) -> dict[str, Any]:
    ids = sorted(ours)
    return {
        "bool": {
            "should": [
                {
                    "bool": {
                        "must_not": [
                            {"exists": {"field": "connectionId"}},
                            {"exists": {"field": "participantId"}},
                        ]
                    }
                },
                {"terms": {"connectionId": ids}},
                {
                    "bool": {
                        "must_not": [{"exists": {"field": "connectionId"}}],
                        "filter": [{"terms": {"participantId": ids}}],
                    }
                },
            ],
            "minimum_should_match": 1,
        }
    }


def count_aggregations(ours: frozenset[str]) -> dict[str, Any]:
    terms = {"size": TERMS_SIZE}
    return {
        "types": {"terms": {"field": "elastic_type", **terms}},
        "cdr": {
            "filter": {"bool": {"filter": [{"term": {"elastic_type": "cdr"}}, _ours_filter(ours)]}},
            "aggs": {"events": {"terms": {"field": "event", **terms}}},
        },
        "final_recordings": {
            "filter": {
                "bool": {
                    "filter": [
                        {"term": {"event": "recordingStatusChanged"}},
                        {"terms": {"status": list(FINAL_RECORDING)}},
                    ]
                }
            }
        },
    }


def _buckets(agg: dict[str, Any], what: str) -> Counter[str]:
    if int(agg.get("sum_other_doc_count", 0)):
        raise ReadBackIncomplete(
            f"counting {what}: Elasticsearch left {agg['sum_other_doc_count']} documents out of "
            f"its {TERMS_SIZE} buckets"
        )
    return Counter({str(b["key"]): int(b["doc_count"]) for b in agg.get("buckets", [])})


def parse_counts(response: dict[str, Any]) -> RunCounts:
    """RunCounts from the aggregations of :func:`count_aggregations` (plus ``_total``)."""
    if not response:
        return RunCounts()
    return RunCounts(
        total=int(response.get("_total", 0)),
        types=_buckets(response["types"], "documents by type"),
        cdr_events=_buckets(response["cdr"]["events"], "cdr documents by event"),
        final_recordings=int(response["final_recordings"]["doc_count"]),
    )


async def count_stored(run: StoredRun, ours: frozenset[str]) -> RunCounts:
    """The counts of a stored run, by aggregations in its point-in-time."""
    return parse_counts(await run.aggregate(count_aggregations(ours)))
