"""A load run ends with its users' leaves inside locust's statistics."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

import pytest

from simulator.load import wind_down
from simulator.load.allocator import Seat
from simulator.load.timings import REQUEST_TYPE, Timings
from simulator.load.visit import VisitPlan, visit
from tests.simulator.load.test_timings import FakeRequestHook


class Entry:
    def __init__(self, requests: int, failures: int = 0) -> None:
        self.num_requests, self.num_failures = requests, failures


class Stats:
    def __init__(self, **entries: Entry) -> None:
        self.entries = entries

    def get(self, name: str, method: str) -> Entry:
        assert method == REQUEST_TYPE
        return self.entries.get(name, Entry(0))


def test_successful_joins_and_all_leaves_are_what_must_balance() -> None:
    stats = Stats(join=Entry(10, failures=2), leave=Entry(8, failures=1))
    assert wind_down.joins_and_leaves(stats) == (8, 8)


def test_the_run_quits_a_report_interval_after_the_last_user_left_once_leaves_balance() -> None:
    decision = wind_down.WindDown(bound_s=60)
    assert not decision.done(0.0, users=4, joined=10, left=6)
    assert not decision.done(5.0, users=0, joined=10, left=10)  # workers may not have reported
    assert not decision.done(8.0, users=0, joined=10, left=10)  # one interval: not yet
    assert decision.done(8.5, users=0, joined=10, left=10)


def test_a_late_report_that_unbalances_the_stats_starts_the_wait_again() -> None:
    decision = wind_down.WindDown(bound_s=60)
    assert not decision.done(0.0, users=0, joined=10, left=10)
    assert not decision.done(3.0, users=0, joined=12, left=10)
    assert not decision.done(6.5, users=0, joined=12, left=12)
    assert decision.done(10.0, users=0, joined=12, left=12)


def test_a_balance_that_outlasts_four_reports_ends_it_while_the_masters_count_lags() -> None:
    decision = wind_down.WindDown(bound_s=90)
    assert not decision.done(0.0, users=60, joined=370, left=370)
    assert not decision.done(12.0, users=60, joined=370, left=370)
    assert decision.done(12.5, users=60, joined=370, left=370)


def test_a_wind_down_that_never_balances_ends_at_its_bound() -> None:
    decision = wind_down.WindDown(bound_s=wind_down.bound_s(stop_timeout_s=20))
    assert not decision.done(0.0, users=0, joined=10, left=9)
    assert not decision.done(80.0, users=0, joined=10, left=9)
    assert decision.done(89.0, users=0, joined=10, left=9)


# -- a visit reports one leave for its join, however it ends ----------------------------------
class Killed(BaseException):
    """What locust raises in a user it stops mid-visit (gevent's GreenletExit)."""


class FakeSession:
    """The calls a visit makes on its load session, each a no-op unless told to fail."""

    def __init__(self, failing_step: str | None = None) -> None:
        self.failing_step = failing_step
        self.left: list[str] = []

    def call(self, coro: Coroutine[Any, Any, Any], timeout_s: float = 60.0) -> Any:
        return asyncio.run(coro)

    async def arrive(self, who: str, room: str) -> None:
        pass

    async def join_failed(self, who: str, room: str, error: BaseException) -> None:
        pass

    async def enter_room(self, seat: Seat, options: object) -> None:
        pass

    async def step(self, step: Any, who: str) -> None:
        if step.do == self.failing_step:
            raise RuntimeError(f"{step.do} failed")

    async def leave(self, who: str) -> None:
        self.left.append(who)


def _visit(session: FakeSession, sleep: Any = lambda _s: None) -> list[str]:
    hook = FakeRequestHook()
    seat = Seat("l1w0-room-1", 0, publishes=True)
    plan = VisitPlan(dwell_s=1, record_rooms=0)
    with contextlib.suppress(RuntimeError, Killed):  # the visit's own failure, re-raised
        visit(session, seat, plan, Timings(hook), "v1", sleep=sleep)  # type: ignore[arg-type]
    return [f"{e['name']}{'!' if e['exception'] else ''}" for e in hook.fired]


def test_a_whole_visit_reports_join_publish_and_leave() -> None:
    assert _visit(FakeSession()) == ["join", "ice_connected", "leave"]


def test_a_visit_whose_publish_failed_still_reports_its_leave() -> None:
    session = FakeSession(failing_step="publish")
    assert _visit(session) == ["join", "ice_connected!", "leave"]
    assert session.left == ["v1"]


def test_a_user_stopped_during_its_dwell_reports_its_leave() -> None:
    def killed(_s: float) -> None:
        raise Killed

    assert _visit(FakeSession(), sleep=killed) == ["join", "ice_connected", "leave"]


def test_a_failed_join_reports_no_leave() -> None:
    assert _visit(FakeSession(failing_step="join")) == ["join!"]


@pytest.mark.parametrize("stop_timeout_s", [0.0, 20.0])
def test_the_bound_covers_the_stop_timeout_and_two_reports(stop_timeout_s: float) -> None:
    assert wind_down.bound_s(stop_timeout_s) > stop_timeout_s + 2 * wind_down.REPORT_INTERVAL_S
