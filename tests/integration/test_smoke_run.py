"""``scenarios/smoke.yaml`` end to end: real peers, Janus, collector and Elasticsearch."""

from __future__ import annotations

import asyncio
import copy
import ipaddress
import uuid
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from collector.store import open_client
from rtcsim.library import LIBRARY
from rtcsim.pipeline.outcome import RunOutcome
from rtcsim.pipeline.timeline import run_scenario_file
from simulator.scenario.loader import load_scenario
from simulator.settings import Settings
from simulator.verify.checks import Check
from simulator.verify.skeleton import CDR_EVENTS
from simulator.verify.store_reader import run_documents
from simulator.verify.verdict import verify

pytestmark = pytest.mark.integration
SMOKE = LIBRARY / "smoke.yaml"
NAMESPACES = ipaddress.ip_network("198.18.0.0/15")
Doc = dict[str, Any]


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
    session_documents = [d for d in smoke.documents if d["elastic_type"] != "monitoringStats"]
    assert all(d.get("sessionId", d.get("session")) == session_id for d in session_documents)


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


# -- each built-in invariant fails when a wrong document is in the store -------------------------
def _checks_with(
    smoke: RunOutcome, settings: Settings, mutate: Callable[[list[Doc]], None]
) -> dict[str, bool]:
    """Put the run's documents, one of them made wrong, into a scratch index; verify from it."""
    documents = copy.deepcopy(smoke.documents)
    mutate(documents)
    # Under the collector's template (it covers "<index>-*"), so fields map as in the real index.
    index = f"{settings.es_index}-test-{uuid.uuid4().hex[:8]}"
    scenario = load_scenario(SMOKE)
    ledger = smoke.ledger

    async def go() -> list[Check]:
        async with open_client(settings.es_client_options()) as es:
            try:
                await es.bulk(
                    operations=[x for d in documents for x in ({"index": {"_index": index}}, d)],
                    refresh=True,
                )
                stored = await run_documents(
                    es,
                    index,
                    [s.session_id for s in ledger.sessions.values()],
                    ledger.started_ms,
                    ledger.ended_ms or ledger.started_ms,
                )
            finally:
                await es.indices.delete(index=index, ignore_unavailable=True)
        return verify(scenario, ledger, stored)

    return {check.name: check.ok for check in asyncio.run(go())}


def _first(docs: list[Doc], elastic_type: str, **match: object) -> Doc:
    return next(
        d
        for d in docs
        if d.get("elastic_type") == elastic_type and all(d.get(k) == v for k, v in match.items())
    )


def _failed(results: dict[str, bool]) -> list[str]:
    return [name for name, ok in results.items() if not ok]


def test_the_untouched_documents_pass_through_a_scratch_index(
    smoke: RunOutcome, running_stack: Settings
) -> None:
    assert _failed(_checks_with(smoke, running_stack, lambda _docs: None)) == []


def test_a_wrong_connection_count_in_the_session_summary_is_caught(
    smoke: RunOutcome, running_stack: Settings
) -> None:
    def mutate(docs: list[Doc]) -> None:
        users = _first(docs, "sessionSummary")["users"]
        users["content"].pop()
        users["numberOfElements"] -= 1

    failed = _failed(_checks_with(smoke, running_stack, mutate))
    assert any(name.endswith(": users") for name in failed)
    assert any("nested summaries equal" in name for name in failed)


def test_a_wrong_duration_is_caught(smoke: RunOutcome, running_stack: Settings) -> None:
    bob = smoke.ledger.participants["bob"].current.connection_id

    def mutate(docs: list[Doc]) -> None:
        _first(docs, "connectionSummary", connectionId=bob)["duration"] += 5

    failed = _failed(_checks_with(smoke, running_stack, mutate))
    assert f"bob ({bob}): duration" in failed


def test_a_wrong_end_reason_is_caught(smoke: RunOutcome, running_stack: Settings) -> None:
    carol = smoke.ledger.participants["carol"].current.connection_id

    def mutate(docs: list[Doc]) -> None:
        _first(docs, "subscriberSummary", connectionId=carol)["reason"] = "networkDisconnect"

    failed = _failed(_checks_with(smoke, running_stack, mutate))
    assert any(
        name.startswith(f"carol ({carol}) receives") and "end reason" in name for name in failed
    )


def test_a_denormalized_copy_that_differs_from_the_nested_one_is_caught(
    smoke: RunOutcome, running_stack: Settings
) -> None:
    def mutate(docs: list[Doc]) -> None:
        _first(docs, "userSummary")["location"] = "Elsewhere, XX"

    failed = _failed(_checks_with(smoke, running_stack, mutate))
    assert any("nested summaries equal" in name for name in failed)


def test_cdr_events_out_of_order_are_caught(smoke: RunOutcome, running_stack: Settings) -> None:
    def mutate(docs: list[Doc]) -> None:
        created = _first(docs, "cdr", event="webrtcConnectionCreated")
        created["timestamp"] = _first(docs, "cdr", event="sessionCreated")["timestamp"] - 1000

    failed = _failed(_checks_with(smoke, running_stack, mutate))
    assert any("cdr events in a valid order" in name for name in failed)


def test_server_packet_counts_far_from_what_was_sent_are_caught(
    smoke: RunOutcome, running_stack: Settings
) -> None:
    stream = smoke.ledger.participants["alice"].current.publications[0].stream_id

    def mutate(docs: list[Doc]) -> None:
        for doc in docs:
            if doc.get("elastic_type") == "webrtcStats" and doc.get("endpoint") == stream:
                doc["packetsReceived"] = doc.get("packetsReceived", 0) // 2

    failed = _failed(_checks_with(smoke, running_stack, mutate))
    assert "alice video packets at the server" in failed


def test_a_document_missing_an_openvidu_field_is_caught(
    smoke: RunOutcome, running_stack: Settings
) -> None:
    def mutate(docs: list[Doc]) -> None:
        del _first(docs, "publisherSummary")["videoDimensions"]

    failed = _failed(_checks_with(smoke, running_stack, mutate))
    assert "publisherSummary fields and JSON types as OpenVidu's" in failed
