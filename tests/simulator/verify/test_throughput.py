"""Throughput figures from a ledger, and throughput expectations as checks."""

from __future__ import annotations

import pytest

from simulator.ledger import (
    ConnectionRecord,
    Ledger,
    ParticipantRecord,
    PublicationRecord,
    SubscriptionRecord,
)
from simulator.scenario.load import LoadScenario
from simulator.scenario.model import ThroughputExpectation
from simulator.verify.expectations import expectation_checks
from simulator.verify.throughput import all_figures, figure


def _person(name: str, *connections: ConnectionRecord) -> ParticipantRecord:
    return ParticipantRecord(name, f"u-{name}", "r", "here", "rtcsim", list(connections))


def _ledger() -> Ledger:
    """10 s run: a joined 0-6 s (publishes, ICE 100 ms), b joined 2-8 s (subscribes, ICE
    300 ms, first frame 500 ms), c joined 7-9 s, d never joined."""
    t0 = 1_000_000
    a = ConnectionRecord("a1", "s", joined_ms=t0, left_ms=t0 + 6000)
    a.publications.append(
        PublicationRecord("st", True, True, 640, 480, 30, t0, ice_connected_ms=t0 + 100)
    )
    b = ConnectionRecord("b1", "s", joined_ms=t0 + 2000, left_ms=t0 + 8000)
    b.subscriptions.append(
        SubscriptionRecord(
            "a", "a1", "st", t0 + 2000, ice_connected_ms=t0 + 2300, first_frame_ms=t0 + 2500
        )
    )
    c = ConnectionRecord("c1", "s", joined_ms=t0 + 7000, left_ms=t0 + 9000)
    d = ConnectionRecord("not-joined:d", "s", end="failed: TimeoutError")
    ledger = Ledger("run", "load", 0, started_ms=t0, ended_ms=t0 + 10_000)
    for name, conn in zip("abcd", (a, b, c, d), strict=True):
        ledger.participants[name] = _person(name, conn)
    return ledger


def test_figures_come_from_what_the_generator_recorded() -> None:
    figures = all_figures(_ledger(), documents=[{"elastic_type": "cdr"}] * 50)
    assert figures == {
        "peers_held": 2.0,  # a and b overlap; c comes after a left
        "sessions_per_second": 0.3,  # 3 joins in 10 s
        "join_success_ratio": 0.75,  # d's attempt failed
        "ice_p50_ms": 100.0,
        "ice_p95_ms": 300.0,
        "first_frame_p50_ms": 500.0,
        "first_frame_p95_ms": 500.0,
        "latency_p50_ms": None,  # no subscriber measured a frame's latency or its RTP
        "latency_p95_ms": None,
        "subscriber_loss_pct": None,
        "jitter_p95_ms": None,
        "video_fps_p5": None,
        "docs_per_second": 5.0,
        "server_cpu_per_stream_pct": None,  # no monitoringStats sampled Janus
        "server_rss_per_stream_kb": None,
    }


def test_a_run_with_nothing_to_measure_has_no_figure() -> None:
    empty = Ledger("run", "load", 0, started_ms=0, ended_ms=1000)
    assert figure("ice_p95_ms", empty, []) is None
    assert figure("join_success_ratio", empty, []) == 0.0


@pytest.mark.parametrize(
    ("metric", "op", "value", "ok"),
    [
        ("join_success_ratio", ">=", 0.75, True),
        ("join_success_ratio", ">=", 0.99, False),
        ("ice_p95_ms", "<=", 250, False),
        ("peers_held", "==", 2, True),
    ],
)
def test_a_throughput_expectation_is_a_check_that_can_fail(
    metric: str, op: str, value: float, ok: bool
) -> None:
    scenario = LoadScenario.model_validate(
        {
            "name": "l",
            "load": {"locustfile": "x.py"},
            "expect": [{"name": "target", "metric": metric, "op": op, "value": value}],
        }
    )
    [check] = expectation_checks(scenario, _ledger(), [])
    assert isinstance(scenario.expect[0], ThroughputExpectation)
    assert check.ok is ok
    assert check.name == "expect: target"
