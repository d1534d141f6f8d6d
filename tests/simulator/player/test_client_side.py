"""The client's record of its endpoints' ICE on a server that reports none (LiveKit): what each
endpoint's connection went through, posted once each, from the endpoint's come-up to its end
and no further (stand-in connections that emit aiortc's state changes)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest

from simulator.driver.janus.server import JanusDriver
from simulator.driver.livekit.server import LiveKitDriver
from simulator.ledger import Ledger, ServerRecord
from simulator.participant import Participant
from simulator.peers.ice_log import watch
from simulator.player import client_side
from simulator.player.context import RunContext
from simulator.player.runner import server_record
from tests.simulator.peers.test_ice_log import FakeConnection

SESSION = "room-run"


@dataclass
class Collector:
    """Records every ``/client-events`` body; ``failing``: the next post fails."""

    posts: list[list[dict[str, Any]]] = field(default_factory=list)
    failing: bool = False

    async def post(self, path: str, body: list[dict[str, Any]]) -> None:
        assert path == "/client-events"
        await asyncio.sleep(0)  # a real post yields: another post may start meanwhile
        if self.failing:
            self.failing = False
            raise ConnectionError("collector away")
        self.posts.append(body)

    def events(self, endpoint: str | None = None) -> list[tuple[str, str, object]]:
        """(endpoint, type, state) of every event posted, in order."""
        return [
            (e["endpoint"], e["type"], e.get("state") or e.get("newState"))
            for body in self.posts
            for e in body
            if endpoint is None or e["endpoint"] == endpoint
        ]


@dataclass
class Context:
    """The parts of ``RunContext`` the client side uses."""

    ledger: Ledger
    collector: Collector = field(default_factory=Collector)
    features: dict[str, object] = field(default_factory=dict)


@dataclass
class Peer:
    """A participant as the client side names it."""

    connection_id: str
    server_id: str


def livekit() -> Context:
    server = ServerRecord(name="livekit", reports=[], client_reports=["ice_events"])
    return Context(Ledger("run", "s", 0, 0, server=server))


def run(ctx: Context) -> RunContext:
    return cast(RunContext, ctx)


def who(name: str) -> Participant:
    return cast(Participant, Peer(f"{name}-id", f"PA_{name}"))


def connection() -> FakeConnection:
    pc = FakeConnection()
    watch(pc)  # type: ignore[arg-type]
    return pc


def come_up(pc: FakeConnection) -> None:
    pc.go("icegatheringstatechange", "iceGatheringState", "gathering")
    pc.go("icegatheringstatechange", "iceGatheringState", "complete")
    pc.go("iceconnectionstatechange", "iceConnectionState", "checking")
    pc.go("iceconnectionstatechange", "iceConnectionState", "completed")


def close(pc: FakeConnection) -> None:
    pc.go("iceconnectionstatechange", "iceConnectionState", "closed")


UP = ["GATHERING", None, "CONNECTING", "READY"]


def states(ctx: Context, endpoint: str) -> list[object]:
    return [state for _e, _t, state in ctx.collector.events(endpoint)]


async def up(
    ctx: Context, participant: Participant, endpoint: str, pc: FakeConnection, feed: str = ""
) -> None:
    await client_side.endpoint_up(
        run(ctx), SESSION, participant, endpoint, cast(Any, pc), feed=feed or None
    )


async def publishing() -> tuple[Context, Participant, FakeConnection]:
    """A LiveKit run's publisher whose publication (``stream``) just came up."""
    ctx, cam, pc = livekit(), who("cam"), connection()
    come_up(pc)
    await up(ctx, cam, "stream", pc)
    return ctx, cam, pc


async def test_an_endpoint_posts_its_connections_past_at_come_up_then_only_what_is_new() -> None:
    ctx, cam, pc = await publishing()
    assert states(ctx, "stream") == UP
    await client_side.post_new_events(run(ctx), cam)
    assert len(ctx.collector.posts) == 1  # nothing new: no post
    pc.go("iceconnectionstatechange", "iceConnectionState", "failed")
    await client_side.post_new_events(run(ctx), cam)
    await client_side.post_new_events(run(ctx), cam)
    assert states(ctx, "stream") == [*UP, "FAILED"]
    body = ctx.collector.posts[-1][0]
    assert body["sessionId"] == SESSION
    assert body["connectionId"] == "PA_cam"  # as the server's documents name it
    assert body["msSinceEndpointCreation"] >= 0


async def test_an_endpoint_that_ends_with_its_connection_posts_its_closing_states_once() -> None:
    ctx, cam, pc = await publishing()
    close(pc)
    await client_side.participant_gone(run(ctx), cam)
    await client_side.participant_gone(run(ctx), cam)
    await client_side.post_new_events(run(ctx), cam)
    assert states(ctx, "stream") == [*UP, "DISCONNECTED"]


async def test_each_subscription_on_a_shared_connection_has_its_history_and_its_own_count() -> None:
    ctx, viewer, shared = livekit(), who("viewer"), connection()
    come_up(shared)
    await up(ctx, viewer, "PA_viewer_a", shared, feed="a-id")
    await up(ctx, viewer, "PA_viewer_b", shared, feed="b-id")
    assert states(ctx, "PA_viewer_a") == states(ctx, "PA_viewer_b") == UP
    close(shared)
    await client_side.post_new_events(run(ctx), viewer)
    assert states(ctx, "PA_viewer_a") == states(ctx, "PA_viewer_b") == [*UP, "DISCONNECTED"]
    assert len(ctx.collector.events()) == 2 * (len(UP) + 1)


async def test_a_subscription_ended_while_its_connection_stays_up_gets_no_later_event() -> None:
    """Unsubscribed, or its publisher gone: the subscriber's connection closes only when the
    subscriber leaves, and that ``DISCONNECTED`` is not the ended subscription's."""
    ctx, viewer, cam = livekit(), who("viewer"), who("cam")
    shared, sending = connection(), connection()
    come_up(shared)
    come_up(sending)
    await up(ctx, cam, "st", sending)
    await up(ctx, viewer, "PA_viewer_st", shared, feed="cam-id")
    await up(ctx, viewer, "PA_viewer_other", shared, feed="other-id")
    await client_side.feed_ended(run(ctx), "cam-id")
    await client_side.subscription_ended(run(ctx), viewer, "other-id")
    close(shared)
    await client_side.participant_gone(run(ctx), viewer)
    assert states(ctx, "PA_viewer_st") == UP
    assert states(ctx, "PA_viewer_other") == UP
    assert states(ctx, "st") == UP  # the publication goes on: its feed's end is not its own
    close(sending)
    await client_side.publication_ended(run(ctx), cam)
    assert states(ctx, "st") == [*UP, "DISCONNECTED"]


async def test_a_resubscription_goes_on_where_the_ended_one_stopped() -> None:
    ctx, viewer, shared = livekit(), who("viewer"), connection()
    come_up(shared)
    await up(ctx, viewer, "PA_viewer_st", shared, feed="cam-id")
    await client_side.subscription_ended(run(ctx), viewer, "cam-id")
    await up(ctx, viewer, "PA_viewer_st", shared, feed="cam-id")
    close(shared)
    await client_side.participant_gone(run(ctx), viewer)
    assert states(ctx, "PA_viewer_st") == [*UP, "DISCONNECTED"]


async def test_an_endpoint_said_up_twice_posts_its_events_once() -> None:
    ctx, cam, pc = await publishing()
    await up(ctx, cam, "stream", pc)
    close(pc)
    await client_side.publication_ended(run(ctx), cam)
    assert states(ctx, "stream") == [*UP, "DISCONNECTED"]


async def test_a_stats_round_and_an_end_at_once_never_post_an_event_twice() -> None:
    ctx, cam, pc = await publishing()
    close(pc)
    await asyncio.gather(
        client_side.post_new_events(run(ctx), cam), client_side.participant_gone(run(ctx), cam)
    )
    assert states(ctx, "stream") == [*UP, "DISCONNECTED"]
    assert len(ctx.collector.posts) == 2


async def test_a_failed_post_is_logged_and_never_fatal(caplog: pytest.LogCaptureFixture) -> None:
    ctx, cam, pc = livekit(), who("cam"), connection()
    come_up(pc)
    ctx.collector.failing = True
    await up(ctx, cam, "stream", pc)
    assert "4 endpoint events of stream not reported: collector away" in caplog.text
    close(pc)
    await client_side.participant_gone(run(ctx), cam)
    assert states(ctx, "stream") == ["DISCONNECTED"]  # the lost ones are not posted again


async def test_on_a_server_that_reports_ice_itself_the_client_posts_none(tmp_path: Path) -> None:
    janus = server_record(JanusDriver("http://janus", admin_label="t"))
    assert janus.client_reports == []
    ctx, cam, pc = Context(Ledger("run", "s", 0, 0, server=janus)), who("cam"), connection()
    come_up(pc)
    await up(ctx, cam, "stream", pc)
    await client_side.post_new_events(run(ctx), cam)
    close(pc)
    await client_side.participant_gone(run(ctx), cam)
    assert ctx.collector.posts == []
    assert ctx.features == {}


def test_a_server_without_ice_events_has_them_from_the_client(tmp_path: Path) -> None:
    record = server_record(LiveKitDriver("ws://lk", "http://lk", tmp_path))
    assert record.client_reports == ["ice_events"]
    assert "ice_events" not in record.reports
