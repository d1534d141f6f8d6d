"""A participant the run did not make joins one of its rooms: the run reports it as foreign
and still passes, instead of failing its counts ("participantJoined expected 2 found 3").

The foreign participant is a real Janus client, made here with the project's own participant
(``simulator.participant`` over the Janus driver's link) in the client namespace, with no ledger
and nothing told to the collector: what a browser opened on the same room looks like to the
server.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest

from rtcsim.pipeline.outcome import RunOutcome, new_run_id
from rtcsim.pipeline.timeline import run_scenario_file
from simulator.driver.janus import videoroom
from simulator.driver.janus.http import JanusError
from simulator.driver.janus.server import JanusLink
from simulator.netns_loop import NamespaceLoop
from simulator.participant import Participant
from simulator.player.runner import session_id_for
from simulator.settings import Settings

pytestmark = pytest.mark.integration
SCENARIO = Path(__file__).resolve().parents[1] / "data" / "scenarios" / "guest-room.yaml"
GUEST = "guest0browser0001"


async def first_publisher(guest: Participant, room: str) -> str:
    """The feed id of the room's first publisher, once it publishes."""
    link = guest.link
    assert isinstance(link, JanusLink)
    assert link.control is not None
    for _ in range(50):
        listed = await videoroom.list_participants(link.control, room)
        feeds = [str(p["id"]) for p in listed if p.get("publisher")]
        if feeds:
            return feeds[0]
        await asyncio.sleep(0.2)
    raise AssertionError(f"nobody published in {room} within 10 s")


async def foreign_guest(settings: Settings, room: str, *, stay_s: float) -> None:
    """Join ``room`` as soon as the run has made it, watch its publisher, stay, leave."""
    async with aiohttp.ClientSession() as http:
        display = "a browser nobody scripted"
        guest = Participant(JanusLink(http, settings.janus_url, GUEST, display), GUEST, display)
        deadline = time.monotonic() + 10
        while True:
            try:
                await guest.join(room)
                break
            except JanusError:  # the room does not exist yet
                await guest.close_quietly(destroy_session=True)
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)
        try:
            feed = await first_publisher(guest, room)
            await guest.subscribe(feed, media="cheap")  # a joined viewer, as a browser's
            await asyncio.sleep(stay_s)
            await guest.leave()
        finally:
            await guest.close_quietly(destroy_session=True)


@pytest.fixture(scope="module")
def guest_run(running_stack: Settings) -> RunOutcome:
    run_id = new_run_id()
    room = session_id_for("guest", run_id)
    media = NamespaceLoop(running_stack.client_netns, name="foreign-guest")

    async def both() -> RunOutcome:
        guest = asyncio.wrap_future(media.submit(foreign_guest(running_stack, room, stay_s=5)))
        outcome = await run_scenario_file(
            SCENARIO, running_stack, progress=lambda _m: None, run_id=run_id
        )
        await guest
        return outcome

    try:
        return asyncio.run(both())
    finally:
        media.close()


def test_a_run_with_a_foreign_participant_passes_its_checks(guest_run: RunOutcome) -> None:
    assert guest_run.passed, [c for c in guest_run.checks if not c.ok]


def test_the_foreign_participant_is_reported_by_name(guest_run: RunOutcome) -> None:
    session_id = guest_run.ledger.sessions["guest"].session_id
    [check] = [c for c in guest_run.checks if "foreign" in c.name]
    assert check.name == f"{session_id}: participants the ledger does not know (foreign)"
    assert check.ok
    assert [line.split()[0] for line in check.found] == [GUEST]


def test_the_collector_recorded_the_foreign_participant_as_server_truth(
    guest_run: RunOutcome,
) -> None:
    joined = [
        d["connectionId"]
        for d in guest_run.documents
        if d.get("elastic_type") == "cdr" and d.get("event") == "participantJoined"
    ]
    assert sorted(joined) == sorted(
        [GUEST] + [p.current.connection_id for p in guest_run.ledger.participants.values()]
    )
    [summary] = [d for d in guest_run.documents if d.get("elastic_type") == "sessionSummary"]
    assert summary["users"]["numberOfElements"] == 3
    counts = {c.name: c for c in guest_run.checks}
    assert counts["cdr participantJoined documents"].found == 2
    assert counts[f"{summary['sessionId']}: users"].found == 2
