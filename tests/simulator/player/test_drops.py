"""The runner books what a drop ends when the server shows it noticed, asking Janus (here a
scripted ``listparticipants``), and only then lets a room close."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import pytest

from simulator.driver.janus.server import JanusServer
from simulator.ledger import (
    ConnectionRecord,
    Ledger,
    SessionRecord,
    SubscriptionRecord,
    now_ms,
)
from simulator.player import drops
from simulator.player.context import RunContext

T = TypeVar("T")
ROOM, SESSION = "drop", "drop-run"


@dataclass
class Reply:
    data: dict[str, Any]


@dataclass
class ScriptedJanus:
    """A VideoRoom handle whose ``listparticipants`` answers come from a script."""

    answers: list[list[dict[str, Any]]]
    asked: int = 0

    async def message(self, body: dict[str, Any]) -> Reply:
        assert body["request"] == "listparticipants"
        listed = self.answers[min(self.asked, len(self.answers) - 1)]
        self.asked += 1
        return Reply({"participants": listed})


@dataclass
class FakeContext:
    """The parts of ``RunContext`` the drop watch uses."""

    admin_handle: ScriptedJanus
    ledger: Ledger
    pending_drops: dict[str, drops.PendingDrop] = field(default_factory=dict)
    drop_detection_s: float = 5.0
    drop_noticed_after_s: float = 30.0
    closed_rooms: list[tuple[str, str]] = field(default_factory=list)
    others: list[str] = field(default_factory=list)

    @property
    def server(self) -> JanusServer:
        """The Janus driver over the scripted admin handle."""
        return JanusServer(
            cast(Any, None), "http://janus", cast(Any, None), cast(Any, self.admin_handle)
        )

    async def on_media(self, coro: Coroutine[Any, Any, T]) -> T:
        return await coro

    def occupants(self, session_id: str) -> list[str]:
        return self.others

    async def room_closed(self, room: str, reason: str) -> None:
        self.closed_rooms.append((room, reason))


def run(ctx: FakeContext) -> RunContext:
    return cast(RunContext, ctx)


def dropped_connection() -> ConnectionRecord:
    record = ConnectionRecord("flaky", SESSION, joined_ms=now_ms() - 10_000)
    record.left_ms, record.end = now_ms(), "networkDisconnect"
    return record


def context(answers: list[list[dict[str, Any]]]) -> FakeContext:
    ledger = Ledger(run_id="run", scenario="s", seed=1, started_ms=now_ms())
    ledger.sessions[ROOM] = SessionRecord(ROOM, SESSION, created_ms=now_ms() - 20_000)
    return FakeContext(ScriptedJanus(answers), ledger)


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(drops, "POLL_S", 0.01)


async def test_the_session_closes_when_janus_lets_the_last_dropped_participant_go() -> None:
    flaky = {"id": "flaky", "publisher": False}
    ctx = context([[flaky], [flaky], []])
    record = dropped_connection()
    drops.watch(run(ctx), "flaky", ROOM, record, None, [])
    assert drops.in_server_view(run(ctx), ROOM)
    await drops.settle(run(ctx))
    assert record.noticed_ms is not None
    assert ctx.ledger.sessions[ROOM].closed_ms == record.noticed_ms
    assert ctx.closed_rooms == [(ROOM, "lastParticipantLeft")]
    assert not drops.in_server_view(run(ctx), ROOM)


async def test_a_room_with_others_still_in_it_stays_open() -> None:
    ctx = context([[]])
    ctx.others = ["steady"]
    drops.watch(run(ctx), "flaky", ROOM, dropped_connection(), None, [])
    await drops.settle(run(ctx))
    assert ctx.closed_rooms == []
    assert ctx.ledger.sessions[ROOM].closed_ms is None


async def test_subscriptions_to_a_dropped_publisher_end_when_janus_stops_listing_it() -> None:
    publishing, unpublished = {"id": "caster", "publisher": True}, {"id": "caster"}
    ctx = context([[publishing], [publishing], [unpublished], [unpublished], []])
    noticed: list[int] = []
    drops.watch(
        run(ctx), "caster", ROOM, dropped_connection(), lambda: noticed.append(now_ms()), []
    )
    await drops.settle(run(ctx))
    assert len(noticed) == 1


async def test_a_publisher_ending_first_ends_a_dropped_subscribers_stream_for_its_reason() -> None:
    """The server ends a subscription with its publisher's reason when the publisher leaves
    before the server noticed the subscriber vanished."""
    ctx = context([[{"id": "flaky"}]])
    record = dropped_connection()
    sub = SubscriptionRecord("host", "host-conn", "host_CAMERA_AAAAA", started_ms=0)
    sub.end, sub.ended_ms = "networkDisconnect", record.left_ms
    record.subscriptions.append(sub)
    drops.watch(run(ctx), "flaky", ROOM, record, None, [sub])
    drops.feed_ended(run(ctx), "host-conn", "disconnect", 12_345)
    await drops.cancel(run(ctx))
    assert (sub.end, sub.ended_ms) == ("disconnect", 12_345)


async def test_a_room_destroyed_before_janus_noticed_ends_the_dropped_one_with_it() -> None:
    ctx = context([[{"id": "flaky"}]])
    record = dropped_connection()
    drops.watch(run(ctx), "flaky", ROOM, record, None, [])
    await asyncio.sleep(0.02)
    destroyed = (record.left_ms or 0) + 1_000
    drops.overtaken(run(ctx), ROOM, destroyed, "sessionClosedByServer")
    assert (record.end, record.left_ms) == ("sessionClosedByServer", destroyed)
    assert not drops.in_server_view(run(ctx), ROOM)


async def test_a_drop_janus_never_shows_is_given_up_at_the_bound() -> None:
    ctx = context([[{"id": "flaky"}]])
    ctx.drop_detection_s = 0.05
    record = dropped_connection()
    drops.watch(run(ctx), "flaky", ROOM, record, None, [])
    await asyncio.wait_for(drops.settle(run(ctx)), timeout=2)
    assert record.noticed_ms is None
    assert ctx.closed_rooms == []
