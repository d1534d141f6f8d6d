"""The scenario library on LiveKit: each scenario whose steps LiveKit can do passes ``rtcsim run
--server livekit`` with the same checks as on Janus, and one it cannot do is refused before
anything plays (exit 2).

The real stack with LiveKit as the media server (``Settings.server = "livekit"``; built first if
it never was). Not every library scenario is played here, for CI's time (about 2.5 min in all): a
webinar, late joiners, mute, a publisher's drop, rejoins and simulcast (12-23 s each). The other
scenarios LiveKit can play (two rooms, talking, a subscriber's drop; ``load-distributed`` under
locust, about 3 min) are only checked to be playable, not played.
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
from simulator.player.standard import standard_repertoire
from simulator.scenario.loader import load_any_scenario
from simulator.scenario.model import Scenario
from simulator.settings import Settings

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
]
PLAYABLE_ELSEWHERE = ["two-rooms", "talk-spurts", "subscriber-drop", "load-distributed"]
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


def test_livekit_subscriptions_measure_no_latency_since_it_renumbers_picture_ids(
    livekit_stack: Settings,
) -> None:
    """After mute-unmute's 3 s mute, frames matched by picture id came out 3 s late: LiveKit
    renumbers them (``PeerPlan.picture_ids_kept``), so no latency is measured there."""
    outcome = outcome_of("mute-unmute", livekit_stack)
    subscriptions = [
        s
        for p in outcome.ledger.participants.values()
        for c in p.connections
        for s in c.subscriptions
    ]
    assert subscriptions
    assert all(s.latency is None for s in subscriptions)
    assert all(s.reception.get("video") for s in subscriptions)  # loss and jitter still are


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
