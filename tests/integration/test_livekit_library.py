"""The scenario library on LiveKit: each scenario whose steps LiveKit can do passes ``rtcsim run
--server livekit`` with the same checks as on Janus, and one it cannot do is refused before
anything plays (exit 2).

The real stack with LiveKit as the media server (``Settings.server = "livekit"``; built first if
it never was). Every library scenario LiveKit can do is played here (about 5 min in all), the
locust run ``load-simulcast`` (one process) among them, but ``load-distributed`` (a master and
two workers, about 3 min, for CI's time): it is only checked to be playable, and
``tests/integration/test_load_across_machines.py`` covers the master and workers on Janus.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rtcsim.pipeline.outcome import RunOutcome
from rtcsim.pipeline.runs import run_file
from rtcsim.services import livekit, stack
from simulator.driver.livekit.server import LIVEKIT_CAPABILITIES
from simulator.ledger import LatencyRecord
from simulator.player.standard import standard_repertoire
from simulator.scenario.loader import load_any_scenario
from simulator.scenario.model import Scenario
from simulator.settings import Settings
from simulator.verify.verdict import required_types

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
LIVEKIT_LIBRARY = [
    "many-subscribers",
    "late-joiner",
    "mute-unmute",
    "publisher-drop",
    "rejoin-storm",
    "simulcast",
    "two-rooms",
    "talk-spurts",
    "subscriber-drop",
    "load-simulcast",
]
PLAYABLE_ELSEWHERE = ["load-distributed"]
"""Playable on LiveKit too, but left out of the suite for its time (``rtcsim run --server
livekit NAME`` plays them)."""
_outcomes: dict[str, RunOutcome] = {}


@pytest.fixture(scope="module")
def livekit_stack(settings: Settings) -> Iterator[Settings]:
    """The stack with LiveKit as its media server; LiveKit is stopped again if it was started
    here (Janus, Elasticsearch and the collector stay, for the other modules)."""
    lk = settings.model_copy(update={"server": "livekit"})
    ran_before = livekit.pid(lk) is not None
    stack.up(lk)
    yield lk
    if not ran_before:
        livekit.stop(lk)


def outcome_of(name: str, settings: Settings) -> RunOutcome:
    if name not in _outcomes:
        _outcomes[name] = asyncio.run(
            run_file(SCENARIOS / f"{name}.yaml", settings, progress=lambda _m: None)
        )
    return _outcomes[name]


@pytest.mark.parametrize("name", LIVEKIT_LIBRARY)
def test_library_scenario_passes_all_its_checks_on_livekit(
    name: str, livekit_stack: Settings
) -> None:
    outcome = outcome_of(name, livekit_stack)
    assert outcome.ledger.server.name == "livekit"
    assert outcome.passed, [c for c in outcome.checks if not c.ok]


def test_livekit_documents_name_connections_by_participant_sid(livekit_stack: Settings) -> None:
    outcome = outcome_of("many-subscribers", livekit_stack)
    summaries = [d for d in outcome.documents if d.get("elastic_type") == "connectionSummary"]
    assert len(summaries) == 9
    assert all(str(d["connectionId"]).startswith("PA_") for d in summaries)
    viewers = [d for d in outcome.documents if d.get("elastic_type") == "subscriberSummary"]
    assert len(viewers) == 8
    assert {d["rtcsim_side"] for d in viewers} == {"client"}  # LiveKit has no subscriber events


def test_the_library_scenarios_named_here_are_all_playable_on_livekit() -> None:
    repertoire = standard_repertoire()
    for name in LIVEKIT_LIBRARY + PLAYABLE_ELSEWHERE:
        scenario = load_any_scenario(SCENARIOS / f"{name}.yaml")
        if isinstance(scenario, Scenario):  # a load scenario's steps are its locustfile's
            assert repertoire.steps.refusals(scenario, LIVEKIT_CAPABILITIES) == [], name


def test_a_scenario_with_a_recording_is_refused_on_livekit_with_exit_2_before_playing() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rtcsim", "run", "--server", "livekit", "scenarios/smoke.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    said = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 2, said
    assert "smoke.yaml:16: timeline[3]: needs recording, which the livekit media server" in said
    assert "Traceback" not in said


def _latencies(outcome: RunOutcome) -> dict[str, LatencyRecord | None]:
    return {
        name: s.latency
        for name, p in outcome.ledger.participants.items()
        for c in p.connections
        for s in c.subscriptions
    }


def test_a_100_ms_downlink_delay_through_livekit_shows_as_100_ms_more(
    livekit_stack: Settings,
) -> None:
    """The latency scenario on LiveKit: frames named by their RTP timestamps (LiveKit keeps
    each subscription's timestamp offset), every one matched, the delayed viewer's p50 about
    100 ms above its neighbour's; the scenario's latency expectations hold."""
    outcome = outcome_of("latency", livekit_stack)
    assert outcome.passed, [c for c in outcome.checks if not c.ok]
    latency = _latencies(outcome)
    plain, delayed = latency["plain"], latency["delayed"]
    assert plain is not None
    assert delayed is not None
    assert plain.frames >= 250  # 12 s of 30 fps
    assert plain.unmatched == 0
    assert delayed.unmatched == 0
    assert plain.p50_ms is not None
    assert delayed.p50_ms is not None
    assert 80 <= delayed.p50_ms - plain.p50_ms <= 125


def test_livekit_latency_stays_exact_across_a_mute_that_renumbers_picture_ids(
    livekit_stack: Settings,
) -> None:
    """After mute-unmute's 3 s video mute LiveKit renumbers picture ids (matched by them,
    every later frame came out 3 s late); matched by timestamp, none is: every frame is
    matched and the slowest is far below the mute's length."""
    outcome = outcome_of("mute-unmute", livekit_stack)
    latency = _latencies(outcome)
    assert latency
    for name, record in latency.items():
        assert record is not None, name
        assert record.frames >= 200, name  # 13 s of video, 3 s of it muted
        assert record.unmatched == 0, name
        assert record.max_ms is not None
        assert record.max_ms < 1000, name


COMPONENT_STATES = ["GATHERING", "CONNECTING", "READY"]
"""aiortc's ICE states in order, as Kurento's (it has no ``connected``: ``checking`` then
``completed``)."""
CLOSED = [*COMPONENT_STATES, "DISCONNECTED"]
"""An endpoint that ended with its peer connection closing (aiortc's ``closed``)."""


def _kms_by_endpoint(outcome: RunOutcome) -> dict[str, list[dict[str, object]]]:
    """The run's kms documents by endpoint, in the order they happened; each is the client's
    and each (type, state, timestamp) of an endpoint is there once."""
    kms = [d for d in outcome.documents if d.get("elastic_type") == "kms"]
    assert kms
    assert {d["rtcsim_side"] for d in kms} == {"client"}
    by_endpoint: dict[str, list[dict[str, object]]] = {}
    for d in sorted(kms, key=lambda d: (d["timestamp"], d["msSinceEndpointCreation"])):
        by_endpoint.setdefault(str(d["endpoint"]), []).append(d)
    for endpoint, events in by_endpoint.items():
        keys = [(e["type"], e.get("state") or e.get("newState"), e["timestamp"]) for e in events]
        assert len(keys) == len(set(keys)), endpoint
    return by_endpoint


def _endpoints_up(outcome: RunOutcome) -> set[str]:
    """Every publication's and subscription's endpoint that came up, as the documents name
    them: the streamId, ``<subscriber's LiveKit SID>_<streamId>``."""
    names: set[str] = set()
    for p in outcome.ledger.participants.values():
        for c in p.connections:
            sid = c.server_id or c.connection_id
            names |= {pub.stream_id for pub in c.publications if pub.ice_connected_ms}
            names |= {f"{sid}_{s.stream_id}" for s in c.subscriptions if s.ice_connected_ms}
    return names


def test_livekit_endpoints_have_the_client_peers_ice_events_as_kms_documents(
    livekit_stack: Settings,
) -> None:
    """LiveKit reports no ICE: every publication's and subscription's endpoint has the ICE
    transitions of the aiortc peer connection carrying it, posted by the client
    (``rtcsim_side: client``), in aiortc's order, the selected pair between the client's and
    LiveKit's namespace addresses, up to its end: the viewers leave, then the presenter, each
    closing its connections, so every endpoint goes on after READY to DISCONNECTED."""
    outcome = outcome_of("many-subscribers", livekit_stack)
    assert outcome.passed, [c for c in outcome.checks if not c.ok]
    by_endpoint = _kms_by_endpoint(outcome)
    summaries = [d for d in outcome.documents if d.get("elastic_type") == "connectionSummary"]
    server_ids = {str(d["connectionId"]) for d in summaries}
    assert set(by_endpoint) == _endpoints_up(outcome)
    assert len(by_endpoint) == 9  # one publication, eight subscriptions
    for endpoint, events in by_endpoint.items():
        assert {str(e["connectionId"]) for e in events} <= server_ids, endpoint
        states = [e["state"] for e in events if e["type"] == "IceComponentStateChange"]
        assert states == CLOSED, endpoint
        kinds = [e["type"] for e in events]
        assert kinds.index("IceGatheringDone") > kinds.index("IceComponentStateChange")
        assert kinds.count("NewCandidatePairSelected") == 1, endpoint
        for kind in ("MediaStateChanged", "ConnectionStateChanged"):
            changes = [e["newState"] for e in events if e["type"] == kind]
            assert changes == ["CONNECTED", "DISCONNECTED"], (endpoint, kind)
        times = [e["msSinceEndpointCreation"] for e in events]
        assert times == sorted(times), endpoint
        pair = next(e["candidatePair"] for e in events if "candidatePair" in e)
        assert isinstance(pair, dict)
        assert f" {livekit_stack.client_address} " in pair["localCandidate"], endpoint
        assert f" {livekit_stack.sfu_address} " in pair["remoteCandidate"], endpoint


def test_a_locust_run_on_livekit_requires_and_has_every_endpoints_ice_events(
    livekit_stack: Settings,
) -> None:
    """A load run decides as a scenario run does that the client stands in for LiveKit's
    ICE: its checks require kms (they passed), and every endpoint that came up has its
    connection's transitions, the client's. A publication ends with its publisher's leave
    (DISCONNECTED); a subscription either with its viewer's leave (DISCONNECTED) or, the
    connection staying up, with its publisher's (READY)."""
    outcome = outcome_of("load-simulcast", livekit_stack)
    assert outcome.ledger.server.client_reports == ["ice_events"]
    assert "kms" in required_types(outcome.ledger)
    assert outcome.passed, [c for c in outcome.checks if not c.ok]
    by_endpoint = _kms_by_endpoint(outcome)
    publications = {
        pub.stream_id
        for p in outcome.ledger.participants.values()
        for c in p.connections
        for pub in c.publications
        if pub.ice_connected_ms
    }
    assert publications
    assert set(by_endpoint) == _endpoints_up(outcome)
    assert len(by_endpoint) > len(publications)  # the viewers' too
    for endpoint, events in by_endpoint.items():
        states = [e["state"] for e in events if e["type"] == "IceComponentStateChange"]
        if endpoint in publications:
            assert states == CLOSED, endpoint
        else:
            assert states in (COMPONENT_STATES, CLOSED), endpoint


def test_livekit_takes_three_layers_and_relays_each_viewer_the_one_it_asked_for(
    livekit_stack: Settings,
) -> None:
    """``simulcast``: LiveKit's TrackInfo lists the three layers; "low" gets the quarter size,
    "high" the full one and then, after its ``set_layer``, the half size."""
    outcome = outcome_of("simulcast", livekit_stack)
    camera = outcome.ledger.participants["camera"].connections[0].publications[0]
    assert camera.simulcast_accepted
    assert camera.server_layers == ["q", "h", "f"]
    got = {
        name: [(p.substream, p.width, p.height) for p in s.layers]
        for name in ("low", "high")
        for s in outcome.ledger.participants[name].connections[0].subscriptions
    }
    assert got["low"] == [(0, 320, 180)]
    # LiveKit may start a viewer on a lower layer until its estimate of the downlink allows the
    # one asked for (seen: a second of the quarter size before the full one).
    assert got["high"][-2:] == [(2, 1280, 720), (1, 640, 360)]
    assert {p[0] for p in got["high"][:-2]} <= {0, 1}
