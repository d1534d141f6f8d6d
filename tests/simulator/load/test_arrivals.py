import pytest

from simulator.load.arrivals import Stage, check_stages, ramp, tick


def test_a_ramp_rises_holds_falls_and_then_ends_the_run() -> None:
    stages = ramp(12, up_s=20, hold_s=100, down_to=6, down_s=30)
    assert tick(stages, 0) == (12, 0.6)  # locust ramps towards 12 at 0.6 users/s
    assert tick(stages, 119.9) == (12, 0.6)
    assert tick(stages, 120) == (6, 0.2)
    assert tick(stages, 150) is None


@pytest.mark.parametrize(
    "stages",
    [[], [Stage(10, 1, 1), Stage(5, 2, 1)], [Stage(10, 1, 1), Stage(10, 2, 1)]],
)
def test_stages_out_of_order_are_refused(stages: list[Stage]) -> None:
    with pytest.raises(ValueError, match="stage"):
        check_stages(stages)


def test_a_stage_without_time_or_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="must be"):
        Stage(0, 3, 1)
