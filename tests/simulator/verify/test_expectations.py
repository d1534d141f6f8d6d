from simulator.driver.capabilities import ServerReport
from simulator.ledger import Ledger, StepRecord
from simulator.scenario.loader import parse_scenario
from simulator.verify.expectations import expectation_checks, unreportable

BASE = """
name: e
rooms: [{name: r}]
participants: [{name: a, room: r}]
timeline:
  - {at: 0, do: join, who: a, label: start}
  - {at: 5, do: leave, who: a, label: stop}
expect:
"""


def _ledger() -> Ledger:
    ledger = Ledger(run_id="r", scenario="e", seed=0, started_ms=0)
    ledger.steps = [
        StepRecord(0, "join", "a", "start", 0.0, started_ms=1_000),
        StepRecord(1, "leave", "a", "stop", 5.0, started_ms=6_000),
    ]
    return ledger


DOCS = [
    {"elastic_type": "webrtcStats", "mediaType": "video", "packetsLost": lost, "timestamp": ts}
    for lost, ts in ((0, 500), (4, 2_000), (10, 3_000), (30, 7_000))
] + [{"elastic_type": "webrtcStats", "mediaType": "audio", "packetsLost": 99, "timestamp": 2_500}]


def _check(expect: str):  # type: ignore[no-untyped-def]
    scenario = parse_scenario(BASE + expect)
    return expectation_checks(scenario, _ledger(), DOCS)[0]


def test_max_over_filtered_documents_passes_when_the_comparison_holds() -> None:
    check = _check(
        "  - {name: v, type: webrtcStats, filter: {mediaType: video}, field: packetsLost,"
        " aggregate: max, op: '<=', value: 30}"
    )
    assert check.ok
    assert check.found == 30


def test_window_between_labelled_steps_limits_the_documents() -> None:
    check = _check(
        "  - {name: v, type: webrtcStats, filter: {mediaType: video}, field: packetsLost,"
        " aggregate: max, op: '<', value: 20, window: {from: start, to: stop}}"
    )
    assert check.ok
    assert check.found == 10


def test_a_failing_comparison_fails_the_check() -> None:
    check = _check(
        "  - {name: v, type: webrtcStats, filter: {mediaType: audio}, field: packetsLost,"
        " aggregate: avg, op: '==', value: 0}"
    )
    assert not check.ok
    assert check.found == 99


def test_count_needs_no_field_and_p95_picks_the_high_end() -> None:
    assert _check("  - {name: c, type: webrtcStats, aggregate: count, op: '==', value: 5}").ok
    p95 = _check(
        "  - {name: p, type: webrtcStats, field: packetsLost, aggregate: p95, op: '==', value: 99}"
    )
    assert p95.ok


def test_no_matching_values_is_a_failure_not_a_pass() -> None:
    check = _check(
        "  - {name: n, type: kms, field: msSinceEndpointCreation,"
        " aggregate: avg, op: '>', value: 0}"
    )
    assert not check.ok
    assert check.found == "no numeric values"


SERVER_LOSS = (
    "  - {name: loss, type: webrtcStats, filter: {rtcsim_side: server}, field: packetsLost,"
    " aggregate: max, op: '>', value: 0}\n"
)
CLIENT_LOSS = SERVER_LOSS.replace("rtcsim_side: server", "rtcsim_side: client")


def test_an_expectation_on_server_stats_is_unreportable_by_a_server_without_them() -> None:
    problems = unreportable(parse_scenario(BASE + SERVER_LOSS), frozenset())
    assert len(problems) == 1
    assert problems[0].startswith("expect[0] ('loss'): webrtcStats from the server needs")


def test_the_same_expectation_is_fine_on_a_server_that_reports_media_stats() -> None:
    reports = frozenset({ServerReport.MEDIA_STATS})
    assert unreportable(parse_scenario(BASE + SERVER_LOSS), reports) == []


def test_an_expectation_on_client_stats_is_fine_on_any_server() -> None:
    assert unreportable(parse_scenario(BASE + CLIENT_LOSS), frozenset()) == []
