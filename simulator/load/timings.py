"""WebRTC timings as locust request events, so locust's stats, CSV and report show them.

Names: ``join`` (Janus session + VideoRoom join), ``ice_connected`` (offer/answer until Janus's
``webrtcup``, per publication and per subscription), ``first_frame`` (subscription start to the
first complete video frame), ``leave``. A failed phase is reported under its name with the
exception, so it counts as a failure in locust's stats.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

REQUEST_TYPE = "WebRTC"
PHASES = ("join", "ice_connected", "first_frame", "leave")


class RequestHook(Protocol):
    """locust's ``environment.events.request`` (an ``EventHook``)."""

    def fire(self, *, reverse: bool = False, **kwargs: Any) -> None: ...


class Timings:
    def __init__(
        self, request: RequestHook, *, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        self._request = request
        self._clock = clock

    def report(self, name: str, elapsed_s: float, exception: BaseException | None = None) -> None:
        self._request.fire(
            request_type=REQUEST_TYPE,
            name=name,
            response_time=elapsed_s * 1000.0,
            response_length=0,
            exception=exception,
            context={},
        )

    @contextmanager
    def timed(self, name: str) -> Iterator[None]:
        """Report how long the block took under ``name``; a failure is reported and re-raised."""
        started = self._clock()
        try:
            yield
        except Exception as exc:
            self.report(name, self._clock() - started, exc)
            raise
        self.report(name, self._clock() - started)
