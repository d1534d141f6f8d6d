"""Which documents are a run's (the query every reader sends)."""

from __future__ import annotations

from simulator.verify.store_reader import SORT, Selection


def test_a_runs_selection_is_its_sessions_or_the_hosts_samples_of_its_window() -> None:
    query = Selection(("s1", "s2"), (100, 200)).query()
    either = query["bool"]["filter"][0]["bool"]["should"]
    assert either[0] == {"terms": {"sessionId": ["s1", "s2"]}}
    assert either[1] == {"terms": {"session": ["s1", "s2"]}}
    host = either[2]["bool"]["filter"]
    assert {"term": {"elastic_type": "monitoringStats"}} in host
    assert {"range": {"timestamp": {"gte": 100, "lte": 200}}} in host


def test_types_narrow_a_selection() -> None:
    query = Selection(("s1",), types=("cdr",)).query()
    assert len(query["bool"]["filter"][0]["bool"]["should"]) == 2  # no window: no host samples
    assert query["bool"]["filter"][1] == {"terms": {"elastic_type": ["cdr"]}}


def test_pages_follow_timestamp_then_the_point_in_times_own_order() -> None:
    assert [next(iter(key)) for key in SORT] == ["timestamp", "_shard_doc"]
