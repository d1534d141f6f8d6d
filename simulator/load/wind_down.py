"""How a load run ends: its users leave first, and locust's statistics hear every leave.

locust ends a headless run with ``quit``: the master tells the workers to quit and exits half a
second later (``MasterRunner.quit``). The workers then stop their users, and every user that was
in the middle of a visit leaves during that stop, after the master stopped listening: its
``leave`` is in the ledger and in the collector's documents, never in locust's stats (a 60-user
run counted 474 joins and 440 leaves). So an rtcsim run ends in two steps:

1. at the end of the play time, the users are ramped down to zero (``runner.start(0, ...)``, or
   a shape's ``tick`` returning ``(0, rate)``): each user finishes its visit, leave included,
   within locust's ``--stop-timeout``, while the workers still report to the master;
2. once the master's stats count a leave for every successful join, and keep doing so while
   every worker reports again (or a bound has passed), the run quits.

Pure: the locust side is ``simulator.load.locust_user``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from simulator.load.timings import REQUEST_TYPE

REPORT_INTERVAL_S = 3.0
"""locust's ``WORKER_REPORT_INTERVAL``: how often a worker sends its stats to the master."""
RATE = 100.0
"""Users stopped per second when winding down (each still finishes its visit)."""
RUN_TIME_ENV = "RTCSIM_LOAD_RUN_TIME_S"
"""The play time, given by ``rtcsim`` to the master (locust's own ``--run-time`` is then only a
backstop, later by the wind-down's bound)."""


def bound_s(stop_timeout_s: float) -> float:
    """The longest a wind-down waits: every visit's last phase, then a minute of reports (a
    starved worker's reports were seen to arrive 7 s late, and the master's user count to lag
    a whole ramp behind)."""
    return stop_timeout_s + 60.0 + 3 * REPORT_INTERVAL_S


class Entry(Protocol):
    num_requests: int
    num_failures: int


class Stats(Protocol):
    """locust's ``RequestStats``."""

    def get(self, name: str, method: str) -> Entry: ...


def joins_and_leaves(stats: Stats) -> tuple[int, int]:
    """Successful joins and leaves (failed or not) in locust's stats: every successful join
    must be followed by one leave."""
    join = stats.get("join", REQUEST_TYPE)
    leave = stats.get("leave", REQUEST_TYPE)
    return join.num_requests - join.num_failures, leave.num_requests


@dataclass
class WindDown:
    """Decides, tick by tick, when a wound-down run may quit: once the stats count a leave for
    every successful join and have kept doing so while every worker reported again (a report
    carries a worker's user count and stats together), sooner when the master also counts no
    user. No join comes after the wind-down began, so a balance that held is final."""

    bound_s: float
    started_s: float | None = None
    idle_since_s: float | None = None
    balanced_since_s: float | None = None

    def done(self, now_s: float, users: int, joined: int, left: int) -> bool:
        if self.started_s is None:
            self.started_s = now_s
        if users > 0:
            self.idle_since_s = None
        elif self.idle_since_s is None:
            self.idle_since_s = now_s
        if left < joined:
            self.balanced_since_s = None
        elif self.balanced_since_s is None:
            self.balanced_since_s = now_s
        if now_s - self.started_s >= self.bound_s:
            return True
        if self.balanced_since_s is None:
            return False
        balanced_s = now_s - self.balanced_since_s
        idle = self.idle_since_s is not None and now_s - self.idle_since_s > REPORT_INTERVAL_S
        # The master's user count can lag (it waits on workers busy stopping users): a balance
        # that outlasts several reports is trusted without it.
        return (idle and balanced_s > REPORT_INTERVAL_S) or balanced_s > 4 * REPORT_INTERVAL_S
