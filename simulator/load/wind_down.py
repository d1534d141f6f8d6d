"""How a load run ends: its users leave first, and locust's statistics hear every leave.

locust ends a headless run with ``quit``: the master tells the workers to quit and exits half a
second later (``MasterRunner.quit``). The workers then stop their users, and every user that was
in the middle of a visit leaves during that stop, after the master stopped listening: its
``leave`` is in the ledger and in the collector's documents, never in locust's stats (a 60-user
run counted 474 joins and 440 leaves). So an rtcsim run ends in two steps:

1. at the end of the play time, the users are ramped down to zero (``runner.start(0, ...)``, or
   a shape's ``tick`` returning ``(0, rate)``): each user finishes its visit, leave included,
   within locust's ``--stop-timeout``, while the workers still report to the master;
2. once the master has seen no user for a full worker report interval and counts a leave for
   every successful join (or a bound has passed), the run quits.

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
    """The longest a wind-down waits: every visit's last phase, then two stats reports."""
    return stop_timeout_s + 3 * REPORT_INTERVAL_S + 5.0


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
    """Decides, tick by tick, when a wound-down run may quit."""

    bound_s: float
    started_s: float | None = None
    idle_since_s: float | None = None

    def done(self, now_s: float, users: int, joined: int, left: int) -> bool:
        if self.started_s is None:
            self.started_s = now_s
        if users > 0:
            self.idle_since_s = None
        elif self.idle_since_s is None:
            self.idle_since_s = now_s
        # A full report interval without users: every worker has sent the stats of its last
        # visits (a report carries the user count and the stats together).
        idle = self.idle_since_s is not None and now_s - self.idle_since_s > REPORT_INTERVAL_S
        return (idle and left >= joined) or now_s - self.started_s >= self.bound_s
