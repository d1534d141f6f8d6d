"""Panels from aggregation responses recorded on a real smoke run (one publisher, two
subscribers, one composed recording), and the query bodies they come from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rtcsim.report import panels, queries
from rtcsim.report.model import Scope
from tests.rtcsim.report.simulcast_layers import SIMULCAST_LAYERS

RESPONSES = json.loads((Path(__file__).parent / "data" / "smoke_aggregations.json").read_text())
SCOPE = Scope(1795886321798, 1795886339350, ("smoke-20261128-171841-3d1e",), "smoke")


def test_the_sessions_dashboard_counts_one_session_one_publisher_two_subscribers() -> None:
    board = panels.sessions_dashboard(SCOPE, RESPONSES)
    assert board.sessions_total == 1
    assert [b.count for b in board.sessions_per_day] == [1]
    assert (board.publishers_total, board.subscribers_total) == (1, 2)
    # Live at the end of each bucket (OpenVidu's panel), not created per bucket.
    live = [p.value for p in board.subscribers.points]
    assert max(v or 0 for v in live) == 2
    assert live[0] == 0
    assert live[-1] == 0  # both left before the run ended
    assert max(p.value or 0 for p in board.publishers.points) == 1
    assert (board.connections_ok, board.connections_failed) == (3, 0)
    assert len(board.locations) == 3
    assert board.host_samples == 2


def test_latencies_are_averages_of_ms_since_endpoint_creation() -> None:
    board = panels.sessions_dashboard(SCOPE, RESPONSES)
    assert board.ice_gathering.count == 3
    assert board.ice_gathering.avg_ms == pytest.approx(2 / 3)
    assert board.candidate_pair.avg_ms == pytest.approx(47.667, abs=1e-3)
    assert [b.count for b in board.candidate_pair.buckets] == [1, 2, 0, 0, 0]


def test_webrtc_stats_are_shown_in_ms_percent_and_kbps() -> None:
    board = panels.sessions_dashboard(SCOPE, RESPONSES)
    assert board.publisher_stats.avg_jitter_ms == pytest.approx(5.0)
    assert board.publisher_stats.avg_bitrate_kbps == pytest.approx(1000.0)
    assert board.subscriber_stats.avg_rtt_ms == pytest.approx(23.25)
    assert board.subscriber_stats.avg_bitrate_kbps == pytest.approx(426.66)


def test_the_recordings_dashboard_uses_openvidus_buckets() -> None:
    board = panels.recordings_dashboard(RESPONSES)
    assert board.total == 1
    assert board.avg_size_bytes == 360664
    assert board.avg_duration_s == pytest.approx(9.428)
    assert [b.label for b in board.by_size][-1] == "More than 1GB"
    assert [b.count for b in board.by_duration] == [1, 0, 0, 0, 0]
    assert [(b.label, b.count) for b in board.by_output_mode] == [("COMPOSED", 1)]
    assert [b.count for b in board.by_tracks] == [1, 0, 0]


def test_empty_responses_give_empty_panels_not_errors() -> None:
    empty: dict[str, dict[str, object]] = {name: {} for name in queries.ALL}
    assert panels.sessions_dashboard(SCOPE, empty).sessions_total == 0
    assert panels.recordings_dashboard(empty).avg_size_bytes is None


def test_a_run_scope_filters_by_sessions_and_the_host_by_its_window() -> None:
    body = queries.host(SCOPE)
    assert {"range": {"timestamp": {"gte": SCOPE.start_ms, "lte": SCOPE.end_ms}}} in body["query"][
        "bool"
    ]["filter"]
    session_filter = queries.sessions(SCOPE)["query"]["bool"]["filter"][1]
    assert session_filter["bool"]["should"][0] == {"terms": {"sessionId": list(SCOPE.session_ids)}}


def test_a_range_scope_filters_every_type_by_time() -> None:
    scope = Scope(0, 86_400_000)
    assert queries.sessions(scope)["query"]["bool"]["filter"][1] == queries.in_window(scope)
    assert queries.interval_ms(scope) == 1_800_000


def test_the_interval_keeps_at_most_sixty_buckets() -> None:
    assert queries.interval_ms(Scope(0, 15_000)) == 1000
    assert queries.interval_ms(Scope(0, 3_600_000)) == 60_000


def test_a_terms_answer_that_left_documents_out_is_found_at_any_depth() -> None:
    aggs = {
        "places": {"terms": {"field": "location", "size": 2}},
        "ice": {
            "filter": {"term": {"type": "x"}},
            "aggs": {"state": {"terms": {"field": "state", "size": 3}}},
        },
    }
    whole = {"places": {"sum_other_doc_count": 0, "buckets": []}, "ice": {"state": {}}}
    assert panels.truncated_terms(aggs, whole) == []
    short = {
        "places": {"sum_other_doc_count": 5, "buckets": []},
        "ice": {"state": {"sum_other_doc_count": 1, "buckets": []}},
    }
    assert panels.truncated_terms(aggs, short) == [
        {"field": "location", "size": 2},
        {"field": "state", "size": 3},
    ]


def test_layer_bitrate_is_the_bytes_between_successive_samples_per_layer() -> None:
    board = panels.sessions_dashboard(SCOPE, {**RESPONSES, "layers": SIMULCAST_LAYERS})
    low, high = board.layer_bitrate
    assert (low.name, high.name) == ("cam_CAMERA_ABCDE layer 0", "cam_CAMERA_ABCDE layer 2")
    assert low.unit == "kbps"
    assert [p.value for p in high.points] == [1500.0, None, 1500.0]
    assert [p.value for p in low.points] == [150.0, None, 150.0]


def test_a_publisher_without_its_start_opens_its_series_with_its_first_sample() -> None:
    layers = {**SIMULCAST_LAYERS, "starts": {"streams": {"buckets": []}}}
    board = panels.sessions_dashboard(SCOPE, {**RESPONSES, "layers": layers})
    assert [p.value for p in board.layer_bitrate[1].points] == [None, None, 1500.0]


def test_a_run_without_simulcast_has_no_layer_bitrate() -> None:
    assert panels.sessions_dashboard(SCOPE, RESPONSES).layer_bitrate == ()
    query = queries.layer_bitrate(SCOPE)
    assert {"exists": {"field": "layer"}} in query["aggs"]["layers"]["filter"]["bool"]["filter"]


def test_ice_is_counted_per_endpoint_time_to_connected_and_final_state() -> None:
    # The smoke's three endpoints (recorded on a later smoke run: same shape, its own ids).
    ice = panels.sessions_dashboard(SCOPE, RESPONSES).ice
    assert ice.endpoints == 3
    assert len(ice.connected_ms) == 3
    assert ice.connected_ms == tuple(sorted(ice.connected_ms))
    assert all(0 < ms < 5000 for ms in ice.connected_ms)
    # Janus's connected and ready share a millisecond: the endpoint ended ready, not connected.
    assert [(b.label, b.count) for b in ice.final_states] == [("READY", 3)]
    assert ice.never_connected == 0
