"""``scenarios/smoke.yaml`` end to end: real peers, real Janus, real collector, real Elasticsearch."""

from __future__ import annotations

import asyncio
import ipaddress
from pathlib import Path

import orjson
import pytest

from simulator.run.execute import RunOutcome, run_scenario_file
from simulator.settings import Settings
from simulator.verify.skeleton import CDR_EVENTS

pytestmark = pytest.mark.integration
SMOKE = Path(__file__).resolve().parents[2] / "scenarios" / "smoke.yaml"
NAMESPACES = ipaddress.ip_network("198.18.0.0/15")


@pytest.fixture(scope="module")
def smoke(running_stack: Settings) -> RunOutcome:
    return asyncio.run(run_scenario_file(SMOKE, running_stack, progress=lambda _m: None))


def test_smoke_run_passes_every_check(smoke: RunOutcome) -> None:
    assert smoke.passed, [c for c in smoke.checks if not c.ok]


def test_both_subscribers_receive_video_and_audio_frames(smoke: RunOutcome) -> None:
    subscriptions = [s for p in smoke.ledger.participants.values() for s in p.subscriptions]
    assert len(subscriptions) == 2
    for sub in subscriptions:
        assert sub.received["video"].frames > 100  # ~12 s at 30 fps
        assert sub.received["audio"].frames > 100
        assert sub.bytes_received > 100_000


def test_the_six_cdr_event_types_are_in_elasticsearch_for_the_session(smoke: RunOutcome) -> None:
    session_id = smoke.ledger.sessions["smoke"].session_id
    events = {d["event"] for d in smoke.documents if d.get("elastic_type") == "cdr"}
    assert set(CDR_EVENTS) <= events
    assert all(
        d.get("sessionId", d.get("session")) == session_id for d in smoke.documents
    )


def test_every_ice_candidate_in_every_sdp_is_a_namespace_address(smoke: RunOutcome) -> None:
    candidates = [a for p in smoke.ledger.participants.values() for a in p.sdp_candidates]
    assert candidates
    assert all(ipaddress.ip_address(a) in NAMESPACES for a in candidates), candidates


def test_results_folder_holds_ledger_summary_and_log(smoke: RunOutcome) -> None:
    summary = orjson.loads((smoke.results_dir / "summary.json").read_bytes())
    assert summary["passed"] is True
    assert summary["run_id"] == smoke.run_id
    ledger = orjson.loads((smoke.results_dir / "ledger.json").read_bytes())
    assert set(ledger["participants"]) == {"alice", "bob", "carol"}
    assert (smoke.results_dir / "run.log").exists()
