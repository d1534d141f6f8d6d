"""The digest keeps what the checks need of a run, and only that."""

from __future__ import annotations

from simulator.scenario.loader import parse_scenario
from simulator.verify.digest import RunDigest
from simulator.verify.expectations import tallies
from tests.simulator.verify.test_expectations import _ledger


def _stats(endpoint: str, kind: str, ts: int, received: int, side: str = "server") -> dict:  # type: ignore[type-arg]
    return {
        "elastic_type": "webrtcStats",
        "endpoint": endpoint,
        "mediaType": kind,
        "timestamp": ts,
        "packetsReceived": received,
        "rtcsim_side": side,
    }


def test_samples_are_counted_but_only_the_last_server_sample_of_a_stream_is_kept() -> None:
    docs = [
        _stats("s1", "video", 1_000, 10),
        _stats("s1", "video", 3_000, 30),
        _stats("s1", "video", 2_000, 20),
        _stats("s1", "video", 4_000, 99, side="client"),
        {"elastic_type": "kms", "timestamp": 5},
    ]
    digest = RunDigest.of(docs)
    assert len(digest) == 5
    assert digest.types == {"webrtcStats": 4, "kms": 1}
    assert digest.kept == []
    assert digest.last_stats[("s1", "video", None)]["packetsReceived"] == 30


def test_a_later_sample_with_the_same_timestamp_wins_as_before() -> None:
    digest = RunDigest.of([_stats("s", "audio", 7, 1), _stats("s", "audio", 7, 2)])
    assert digest.last_stats[("s", "audio", None)]["packetsReceived"] == 2


def test_summaries_and_cdr_events_are_kept_whole_in_order() -> None:
    docs = [
        {"elastic_type": "cdr", "event": "sessionCreated", "timestamp": 1},
        {"elastic_type": "monitoringStats", "timestamp": 2},
        {"elastic_type": "sessionSummary", "timestamp": 3},
    ]
    digest = RunDigest.of(docs)
    assert digest.kept == [docs[0], docs[2]]
    assert digest.of_type("sessionSummary") == [docs[2]]


def test_schema_problems_are_tallied_per_type_as_documents_pass() -> None:
    digest = RunDigest.of([{"elastic_type": "kms", "type": "IceComponentStateChange"}])
    tally = digest.schema["kms"]
    assert (tally.documents, tally.compared) == (1, 1)
    assert "missing timestamp" in tally.problems


def test_an_expectation_tallies_only_the_documents_it_selects() -> None:
    scenario = parse_scenario(
        "name: e\nrooms: [{name: r}]\nparticipants: [{name: a, room: r}]\n"
        "timeline: [{at: 0, do: join, who: a}]\n"
        "expect:\n  - {name: v, type: webrtcStats, filter: {mediaType: video},"
        " field: packetsReceived, aggregate: last, op: '>=', value: 0}\n"
    )
    digest = RunDigest.of(
        [_stats("s", "video", 5, 1), _stats("s", "audio", 9, 2), _stats("s", "video", 4, 3)],
        tallies(scenario, _ledger()),
    )
    [tally] = digest.expectations
    assert (tally.matched, tally.values, tally.last) == (2, [1.0, 3.0], (5, 1.0))
