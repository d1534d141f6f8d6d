"""Every scenario of the library passes ``rtcsim run`` on the real stack, and each shows what
it is about in the documents (smoke and the recordings have test modules of their own)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from rtcsim.pipeline.outcome import RunOutcome
from rtcsim.pipeline.runs import run_file
from simulator.settings import Settings

pytestmark = pytest.mark.integration
SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
OWN_TESTS = {"smoke"}
# Only the top folder: scenarios/locust/ holds locustfiles, which import locust (and gevent's
# monkey-patching) and must never be loaded into this process.
LIBRARY = sorted(
    p.name
    for p in SCENARIOS.glob("*.*")
    if p.suffix in (".yaml", ".py")
    and p.stem not in OWN_TESTS
    and not p.stem.startswith("recording-")
)
_outcomes: dict[str, RunOutcome] = {}


def outcome_of(name: str, settings: Settings) -> RunOutcome:
    """One run per scenario per test session, shared by the tests that look at it."""
    if name not in _outcomes:
        path = SCENARIOS / (name if "." in name else f"{name}.yaml")
        _outcomes[name] = asyncio.run(run_file(path, settings, progress=lambda _m: None))
    return _outcomes[name]


def _summaries(outcome: RunOutcome, elastic_type: str) -> list[dict[str, object]]:
    return [d for d in outcome.documents if d.get("elastic_type") == elastic_type]


@pytest.mark.parametrize("name", LIBRARY)
def test_library_scenario_passes_all_its_checks(name: str, running_stack: Settings) -> None:
    outcome = outcome_of(name, running_stack)
    assert outcome.passed, [c for c in outcome.checks if not c.ok]


def test_the_library_covers_the_situations_seen_in_the_field() -> None:
    assert {
        "many-subscribers",
        "lossy-uplink",
        "subscriber-drop",
        "late-joiner",
        "rejoin-storm",
        "mute-unmute",
        "two-rooms",
    } <= {name.rsplit(".", 1)[0] for name in LIBRARY}


def test_an_abrupt_drop_ends_as_networkDisconnect_and_a_clean_leave_as_disconnect(
    running_stack: Settings,
) -> None:
    outcome = outcome_of("subscriber-drop", running_stack)
    flaky = outcome.ledger.participants["flaky"].current.connection_id
    steady = outcome.ledger.participants["steady"].current.connection_id
    subscribers = {s["connectionId"]: s for s in _summaries(outcome, "subscriberSummary")}
    connections = {c["connectionId"]: c for c in _summaries(outcome, "connectionSummary")}
    assert subscribers[flaky]["reason"] == "networkDisconnect"
    assert connections[flaky]["reason"] == "networkDisconnect"
    assert subscribers[steady]["reason"] == "disconnect"
    assert connections[steady]["reason"] == "disconnect"


def test_ten_percent_uplink_loss_shows_in_the_publishers_webrtc_stats(
    running_stack: Settings,
) -> None:
    outcome = outcome_of("lossy-uplink", running_stack)
    stream = outcome.ledger.participants["sender"].current.publications[0].stream_id
    server = [
        d
        for d in outcome.documents
        if d.get("elastic_type") == "webrtcStats"
        and d.get("endpoint") == stream
        and d.get("rtcsim_side") == "server"
    ]
    for kind in ("audio", "video"):
        last = max((d for d in server if d["mediaType"] == kind), key=lambda d: d["timestamp"])
        lost = int(last["packetsLost"])
        loss = 100 * lost / (lost + int(last["packetsReceived"]))
        assert 6.0 <= loss <= 14.0, (kind, loss)


def test_a_rejoin_is_a_new_connection_of_the_same_user(running_stack: Settings) -> None:
    outcome = outcome_of("rejoin-storm", running_stack)
    users = {u["id"]: u for u in _summaries(outcome, "userSummary")}
    viewer = outcome.ledger.participants["viewer-1"]
    assert users[viewer.user_id]["connections"]["numberOfElements"] == len(viewer.connections) == 3


TEN_TYPES = {
    "cdr",
    "kms",
    "monitoringStats",
    "webrtcStats",
    "sessionSummary",
    "recordingSummary",
    "userSummary",
    "connectionSummary",
    "publisherSummary",
    "subscriberSummary",
}


def test_a_distributed_locust_run_is_recorded_whole_and_meets_its_throughput_targets(
    running_stack: Settings,
) -> None:
    """load-distributed.yaml: a locust master and two workers; both workers' ledgers merge,
    the collector recorded every type, the throughput expectations were evaluated (and held),
    and each worker watched itself."""
    outcome = outcome_of("load-distributed", running_stack)
    assert outcome.passed, [c for c in outcome.checks if not c.ok]
    assert outcome.valid, outcome.invalid_reason
    assert {d.get("elastic_type") for d in outcome.documents} >= TEN_TYPES
    assert len(outcome.ledger.generator) == 2  # one self-watch report per worker
    assert {r.pid for r in outcome.ledger.generator} == {
        int(p.stem.split("-")[1]) for p in outcome.results_dir.glob("ledger-*.json")
    }
    throughput = [c for c in outcome.checks if c.detail == "from the ledger"]
    assert len(throughput) == 6, [c.name for c in throughput]
    joined = [c for p in outcome.ledger.participants.values() for c in p.connections]
    assert len(joined) >= 40  # 12 users, ~11 s visits, 150 s: visits keep coming
    stats = (outcome.results_dir / "stats_stats.csv").read_text()
    for phase in ("join", "ice_connected", "first_frame", "leave"):
        assert f"WebRTC,{phase}," in stats
    sessions = {
        d["sessionId"] for d in outcome.documents if d.get("elastic_type") == "sessionSummary"
    }
    assert sessions == {s.session_id for s in outcome.ledger.sessions.values()}


def test_a_hundred_users_ramping_up_and_down_are_read_back_whole(running_stack: Settings) -> None:
    """load-ramp-100.yaml: rooms of four, up to 100 users and down again. Its ledger equals its
    documents, read back whole: every cdr count, every session closed with its summary, and
    locust heard a leave for every join."""
    outcome = outcome_of("load-ramp-100", running_stack)
    assert outcome.passed, [c for c in outcome.checks if not c.ok][:10]
    assert outcome.document_count > 10_000  # past the window of a plain search
    assert outcome.throughput["peers_held"] == 100
    counts = {c.name: c for c in outcome.checks if c.name.startswith("cdr ")}
    assert len(counts) == 6
    assert all(c.ok for c in counts.values())
    joined = [c for p in outcome.ledger.participants.values() for c in p.connections if c.joined_ms]
    sessions = {c.session_id for c in joined}
    assert len(sessions) >= 100
    summarised = {
        d["sessionId"] for d in outcome.documents if d.get("elastic_type") == "sessionSummary"
    }
    assert summarised == sessions
    leaves = next(c for c in outcome.checks if c.name.startswith("locust counted a leave"))
    assert leaves.ok
    assert leaves.found == len(joined)
