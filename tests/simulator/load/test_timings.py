import sys
from typing import Any

import pytest

from simulator.load.timings import REQUEST_TYPE, Timings


class FakeRequestHook:
    """Stands in for locust's ``environment.events.request``."""

    def __init__(self) -> None:
        self.fired: list[dict[str, Any]] = []

    def fire(self, *, reverse: bool = False, **kwargs: Any) -> None:
        self.fired.append(kwargs)


def _clock(*times: float) -> Any:
    ticks = iter(times)
    return lambda: next(ticks)


def test_a_timed_phase_is_one_request_event_in_milliseconds() -> None:
    hook = FakeRequestHook()
    with Timings(hook, clock=_clock(10.0, 10.25)).timed("join"):
        pass
    assert hook.fired == [
        {
            "request_type": REQUEST_TYPE,
            "name": "join",
            "response_time": 250.0,
            "response_length": 0,
            "exception": None,
            "context": {},
        }
    ]


def test_a_failed_phase_is_reported_with_its_exception_and_raised() -> None:
    hook = FakeRequestHook()
    boom = TimeoutError("no webrtcup")
    with pytest.raises(TimeoutError), Timings(hook, clock=_clock(1.0, 3.0)).timed("ice_connected"):
        raise boom
    assert len(hook.fired) == 1
    assert hook.fired[0]["name"] == "ice_connected"
    assert hook.fired[0]["response_time"] == 2000.0
    assert hook.fired[0]["exception"] is boom


def test_a_measured_value_is_reported_as_is() -> None:
    hook = FakeRequestHook()
    Timings(hook).report("first_frame", 0.125)
    assert hook.fired[0]["name"] == "first_frame"
    assert hook.fired[0]["response_time"] == 125.0


def test_the_cli_and_the_load_modules_do_not_import_locust() -> None:
    import simulator.load.visit  # noqa: F401

    assert "locust" not in sys.modules
    assert "gevent" not in sys.modules
