"""One process's share of a load run: the same ``RunContext``, step executors and ledger a
scenario run uses, driven by locust users instead of a timeline.

That is what lets the collector record a load run exactly like a scenario run (sessions,
identities, streams and recordings are announced the same way) and lets the same invariants
and expectations check it afterwards: each process writes its ledger part to the run's folder
(``ledger-<pid>.json``) when locust stops, and ``rtcsim.pipeline.load`` merges the parts.

Two loops: executors run on ``control`` (a thread in the root namespace, where the collector
listens on loopback) and hand peer and Janus work to ``media`` (a thread in the client
namespace), exactly as the scenario runner does from its own loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from simulator.collector_client import CollectorClient
from simulator.driver.protocol import RoomOptions
from simulator.driver.servers import driver_for
from simulator.identity import make_identity
from simulator.ledger import ConnectionRecord, Ledger, ParticipantRecord, now_ms
from simulator.load.allocator import Seat
from simulator.netns_loop import NamespaceLoop
from simulator.player.context import RunContext
from simulator.player.host_sample import take_host_sample
from simulator.player.impairment_hook import apply_impairment
from simulator.player.registry import Repertoire
from simulator.player.runner import open_room, server_record
from simulator.player.standard import standard_repertoire
from simulator.player.steps import end_connection
from simulator.scenario.model import (
    JoinStep,
    ParticipantSpec,
    RoomSpec,
    Scenario,
    StepBase,
)
from simulator.settings import Settings
from simulator.watch import GeneratorWatch
from simulator.watch.sink import CollectorSink

log = logging.getLogger(__name__)

T = TypeVar("T")
Wait = Callable[["concurrent.futures.Future[Any]", float], Any]
ROOM_WAIT_S = 20.0
PUBLISHER_WAIT_S = 15.0
RUN_ID_ENV = "RTCSIM_LOAD_RUN_ID"
RUN_DIR_ENV = "RTCSIM_LOAD_RUN_DIR"
LEDGER_PART = "ledger-{pid}.json"


def blocking_wait(future: concurrent.futures.Future[T], timeout_s: float) -> T:
    """Outside gevent: block the calling thread."""
    return future.result(timeout_s)


def open_scenario(name: str) -> Scenario:
    """The context's scenario: a load run has no timeline, its participants arrive as locust
    users do. Executors only ask a scenario to resolve names, which passes unknown (arrived)
    names through unchanged."""
    return Scenario(
        name=name,
        rooms=[RoomSpec(name="load")],
        participants=[ParticipantSpec(name="load-user", room="load")],
        timeline=[JoinStep(at=0, who=["load-user"], do="join")],
    )


class LoadSession:
    """Everything one load process shares. ``call`` runs a coroutine on the control loop and
    waits with ``wait`` (for locust, a gevent-friendly poll)."""

    def __init__(
        self,
        settings: Settings,
        *,
        run_id: str,
        run_dir: Path,
        label: str,
        wait: Wait = blocking_wait,
        repertoire: Repertoire | None = None,
    ) -> None:
        self.settings = settings
        self.repertoire = repertoire or standard_repertoire()
        self.run_id = run_id
        self.run_dir = run_dir
        self._wait = wait
        self._opened: dict[str, asyncio.Event] = {}
        self.control = NamespaceLoop(None, name="rtcsim-load-control")
        try:
            self.media = NamespaceLoop(settings.client_netns, name="rtcsim-load-media")
        except BaseException:
            self.control.close()
            raise
        try:
            self.ctx: RunContext = self.call(self._context(label))
        except BaseException:
            self.media.close()
            self.control.close()
            raise
        # The generator's self-watch: this process's CPU and both loops' lag, into the
        # collector as it goes and into the ledger part at the end.
        self.sink = CollectorSink(self.ctx.collector, self.control.loop)
        self.watch = GeneratorWatch(
            f"{label}-{os.getpid()}",
            {"media": self.media.loop, "control": self.control.loop},
            sink=self.sink,
            run_id=run_id,
        )
        self.watch.start()

    def call(self, coro: Coroutine[Any, Any, T], timeout_s: float = 60.0) -> T:
        result: T = self._wait(self.control.submit(coro), timeout_s)
        return result

    async def _context(self, label: str) -> RunContext:
        settings = self.settings
        collector_http = aiohttp.ClientSession()
        driver = driver_for(settings, admin_label="rtcsim:load-admin")
        server = await self.media.run(driver.connect())
        ledger = Ledger(
            run_id=self.run_id,
            scenario=label,
            seed=0,
            started_ms=now_ms(),
            server=server_record(driver),
        )
        collector = CollectorClient(
            collector_http, settings.collector_api_url, settings.collector_token
        )
        await take_host_sample(collector, ledger, "start")
        ctx = RunContext(
            scenario=open_scenario(label),
            run_id=self.run_id,
            ledger=ledger,
            media=self.media,
            collector=collector,
            server=server,
            client_address=settings.client_address,
            impairment_hook=apply_impairment,  # in-process impairment (a capacity search's)
            results_dir=self.run_dir,
            drop_detection_s=driver.timings.drop_noticed_within_s,
            drop_noticed_after_s=driver.timings.drop_noticed_after_s,
        )
        self.repertoire.features.install(ctx)
        return ctx

    # -- what a visit does, each on the control loop --------------------------------------
    async def arrive(self, who: str, room: str) -> None:
        """Enter ``who`` (one visit) in the ledger, with an identity of its own."""
        identity = make_identity(0, who)
        self.ctx.identities[who] = identity
        self.ctx.ledger.participants[who] = ParticipantRecord(
            name=who,
            user_id=identity.user_id,
            room=room,
            location=identity.location,
            platform=identity.platform,
        )

    async def join_failed(self, who: str, room: str, error: BaseException) -> None:
        """Keep a join that failed before it reached Janus as an attempt in the ledger, so the
        join success ratio counts it."""
        record = self.ctx.ledger.participants[who]
        if not record.connections:
            record.connections.append(
                ConnectionRecord(
                    connection_id=f"not-joined:{who}",
                    session_id=self.ctx.session_ids.get(room, ""),
                    end=f"failed: {type(error).__name__}: {error}"[:300],
                )
            )

    async def enter_room(self, seat: Seat, options: RoomOptions) -> None:
        """The seat that opens a room creates it; the others wait until it exists."""
        opened = self._opened.setdefault(seat.room, asyncio.Event())
        if seat.opens_room:
            try:
                await open_room(self.ctx, seat.room, options)
            finally:
                opened.set()  # a failed opening fails the others' joins, not their wait
            return
        async with asyncio.timeout(ROOM_WAIT_S):
            await opened.wait()

    async def step(self, step: StepBase, who: str) -> None:
        await self.repertoire.steps.run(self.ctx, step, who)

    async def room_publishers(self, who: str) -> list[str]:
        """The participants publishing in ``who``'s room, once there is one."""
        ctx = self.ctx
        session_id = ctx.ledger.participants[who].current.session_id
        async with asyncio.timeout(PUBLISHER_WAIT_S):
            while True:
                found = [
                    name
                    for name in ctx.occupants(session_id)
                    if name != who
                    and ctx.participants[name].publisher is not None
                    and ctx.ledger.participants[name].current.publications
                    and ctx.ledger.participants[name].current.publications[-1].ice_connected_ms
                ]
                if found:
                    return found
                await asyncio.sleep(0.1)

    async def leave(self, who: str) -> None:
        if who in self.ctx.participants:
            await end_connection(self.ctx, who, "disconnect", how="leave")

    async def retire_room(self, room: str) -> None:
        """The room's last occupant has gone: destroy it on the server (its session is closed)."""
        ctx = self.ctx
        session = ctx.ledger.sessions.get(room)
        self._opened.pop(room, None)
        if session is None:
            return
        if session.closed_ms is None:  # nobody ever joined it
            session.closed_ms = now_ms()
            await ctx.room_closed(room, "lastParticipantLeft")
        try:
            await ctx.on_media(ctx.server.destroy_room(session.session_id))
        except Exception as exc:
            log.warning("room %s not destroyed: %s", room, exc)

    # -- the end ----------------------------------------------------------------------------
    def finish(self) -> Path:
        """Close what is left, write this process's ledger part; returns its path.

        The part is written whatever the goodbyes do: with a media server that stopped
        answering, closing every participant can outlast locust's patience (a worker that lost
        its master quits again after 60 s and kills the greenlet waiting here), and a process
        without its part loses the record of every visit it made."""
        path = self.run_dir / LEDGER_PART.format(pid=os.getpid())
        ledger = self.ctx.ledger
        try:
            self.call(self._finish(), 300)
        finally:
            if ledger.ended_ms is None:
                ledger.ended_ms = now_ms()
            ledger.generator.append(self.watch.stop())
            ledger.write(path)  # no wait in here: it completes even while the greenlet dies
        with contextlib.suppress(Exception):
            self.call(self.sink.flush(), 15)
        with contextlib.suppress(Exception):
            self.call(self.ctx.collector.http.close(), 5)
        self.media.close()
        self.control.close()
        return path

    async def _finish(self) -> None:
        ctx = self.ctx
        for who in list(ctx.participants):
            try:
                await end_connection(ctx, who, "disconnect", how="leave")
            except Exception as exc:
                log.error("%s could not leave cleanly: %s", who, exc)
        # Every room this process opened goes, not only those nobody left: a room whose last
        # occupant left is closed in the ledger but still exists on the server (Janus keeps an
        # empty VideoRoom room), and a search that left its rooms behind made the server that
        # later searches measured a heavier one.
        open_rooms = {r for r, s in ctx.ledger.sessions.items() if s.closed_ms is None}
        for room in sorted(open_rooms | set(self._opened)):
            await self.retire_room(room)
        for hook in ctx.run_end_hooks:
            try:
                await hook(ctx)
            except Exception as exc:
                log.error("run-end hook failed: %s", exc)
        with contextlib.suppress(Exception):
            await ctx.on_media(ctx.server.close())
        await take_host_sample(ctx.collector, ctx.ledger, "end")
        ctx.ledger.ended_ms = now_ms()
