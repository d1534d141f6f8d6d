"""Arrival shapes for load runs: stages of (until second, users, spawn rate), as locust's
``LoadTestShape.tick`` wants them. Pure, so it is tested without importing locust; the locust
side is ``simulator.load.locust_user.StagedArrivals``.

A stage holds until its ``until_s``; between stages locust moves towards the new user count at
the stage's rate (a ramp). After the last stage the shape is done (``None``), which bounds the
run even without ``--run-time``; ``StagedArrivals`` then winds the users down to zero before
locust quits (``simulator.load.wind_down``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    until_s: float
    users: int
    spawn_rate: float

    def __post_init__(self) -> None:
        if self.until_s <= 0 or self.users < 0 or self.spawn_rate <= 0:
            raise ValueError(f"{self}: until_s and spawn_rate must be > 0, users >= 0")


def check_stages(stages: Sequence[Stage]) -> None:
    if not stages:
        raise ValueError("an arrival shape needs at least one stage")
    ends = [stage.until_s for stage in stages]
    if ends != sorted(ends) or len(set(ends)) != len(ends):
        raise ValueError(f"stages must end in increasing order, not {ends}")


def tick(stages: Sequence[Stage], run_time_s: float) -> tuple[int, float] | None:
    """The (users, spawn rate) locust should aim for ``run_time_s`` into the run."""
    for stage in stages:
        if run_time_s < stage.until_s:
            return stage.users, stage.spawn_rate
    return None


def ramp(
    peak_users: int, *, up_s: float, hold_s: float, down_to: int, down_s: float
) -> list[Stage]:
    """Up to ``peak_users`` over ``up_s``, hold, then down to ``down_to`` over ``down_s``."""
    up_rate = max(0.1, peak_users / up_s)
    down_rate = max(0.1, (peak_users - down_to) / down_s) if peak_users > down_to else 1.0
    return [
        Stage(up_s + hold_s, peak_users, up_rate),
        Stage(up_s + hold_s + down_s, down_to, down_rate),
    ]
