"""Counting a run's documents: over a list, and from Elasticsearch's aggregation answer."""

from __future__ import annotations

import pytest

from simulator.verify.counts import count_aggregations, counts_of, parse_counts
from simulator.verify.store_reader import ReadBackIncomplete

OURS = frozenset({"c-alice", "c-bob"})
DOCS = [
    {"elastic_type": "cdr", "event": "sessionCreated", "sessionId": "s"},
    {"elastic_type": "cdr", "event": "participantJoined", "connectionId": "c-alice"},
    {"elastic_type": "cdr", "event": "participantJoined", "connectionId": "c-bob"},
    {"elastic_type": "cdr", "event": "participantJoined", "connectionId": "browser-1"},
    {"elastic_type": "cdr", "event": "recordingStatusChanged", "status": "ready"},
    {"elastic_type": "kms", "connectionId": "browser-1"},
]


def test_a_list_is_counted_by_type_and_by_the_runs_own_cdr_events() -> None:
    counts = counts_of(DOCS, OURS)
    assert counts.total == 6
    assert counts.types == {"cdr": 5, "kms": 1}
    assert counts.cdr_events == {
        "sessionCreated": 1,
        "participantJoined": 2,  # browser-1 is foreign
        "recordingStatusChanged": 1,
    }
    assert counts.final_recordings == 1


def test_the_aggregations_count_only_the_ledgers_connections_and_the_sessions() -> None:
    ours = count_aggregations(OURS)["cdr"]["filter"]["bool"]["filter"][1]["bool"]["should"]
    assert {"terms": {"connectionId": ["c-alice", "c-bob"]}} in ours
    assert ours[0]["bool"]["must_not"][0] == {"exists": {"field": "connectionId"}}


def _answer(other: int) -> dict[str, object]:
    return {
        "_total": 3,
        "types": {"sum_other_doc_count": other, "buckets": [{"key": "cdr", "doc_count": 3}]},
        "cdr": {"events": {"sum_other_doc_count": 0, "buckets": [{"key": "x", "doc_count": 3}]}},
        "final_recordings": {"doc_count": 0},
    }


def test_an_aggregation_answer_becomes_counts() -> None:
    counts = parse_counts(_answer(0))
    assert (counts.total, counts.types, counts.cdr_events) == (3, {"cdr": 3}, {"x": 3})


def test_an_answer_that_left_documents_out_of_its_buckets_is_refused() -> None:
    with pytest.raises(ReadBackIncomplete, match="left 7 documents out"):
        parse_counts(_answer(7))


def test_no_index_yet_counts_nothing() -> None:
    assert parse_counts({}).total == 0
