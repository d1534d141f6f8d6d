"""A locust ``User`` that is one WebRTC participant: join a room, publish or subscribe, dwell,
leave, again, with the timings in locust's stats (``simulator.load.timings``).

Subclass it in a locustfile and set the class attributes (``scenarios/locust/load-small.py``)::

    class Viewers(WebRTCUser):
        users_per_room = 4
        plan = VisitPlan(dwell_s=20, media="cheap")

Run it with ``rtcsim load FILE`` (which sets ``LOCUST_SKIP_MONKEY_PATCH=1``) or with plain
``locust -f FILE`` (``simulator.load.plain_locust``: restarted unpatched, concluded when locust
quits). locust
monkey-patches ``threading`` and ``socket`` with gevent on import, which would turn the media
loop's thread into a greenlet (and move the whole process into the client namespace when it
enters it). rtcsim's users need no patching: they only wait, with ``gevent.sleep``, for
futures of the media loop; only ``time.sleep`` is patched, which locust's master/worker link
needs. Importing this module sets the variable itself unless locust was already imported
patched, which it refuses.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any, ClassVar, TypeVar

if "locust" not in sys.modules:
    os.environ.setdefault("LOCUST_SKIP_MONKEY_PATCH", "1")

import gevent
from gevent import monkey
from gevent.lock import BoundedSemaphore
from locust import LoadTestShape, User, events, task
from locust import runners as locust_runners
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from simulator.load import part_messages, plain_locust, wind_down
from simulator.load.allocator import RoomAllocator
from simulator.load.arrivals import Stage, check_stages, tick
from simulator.load.session import RUN_DIR_ENV, RUN_ID_ENV, LoadSession
from simulator.load.timings import Timings
from simulator.load.visit import VisitPlan, visit, warm_clips
from simulator.settings import Settings

if monkey.is_module_patched("threading"):
    plain_locust.restart_unpatched()  # `locust -f FILE` as typed: the same command, unpatched
    raise ImportError(
        "locust was imported with gevent's monkey-patching, which breaks rtcsim's media thread: "
        "run through `rtcsim load`, or set LOCUST_SKIP_MONKEY_PATCH=1"
    )
if "locust.main" in sys.modules:
    # Run by locust's command line: its master/worker link sleeps with time.sleep and needs
    # that one patch (measured: without it a worker never connects); threads, sockets and
    # select stay native for the media loop.
    monkey.patch_time()

T = TypeVar("T")
POLL_S = 0.01
WORKER_SILENCE_S = 600
"""Seconds of missed heartbeats before the master gives a worker up. locust's own 3
(``locust.runners.HEARTBEAT_LIVENESS``, one heartbeat a second) is less than a busy 2-core
machine keeps: measured, both workers of a 100-user run were declared missing 17 s in, and with
30 s both again while the master sat 30 s in a graceful ramp-down (``MasterRunner.start``
waiting for the workers' reports); locust then stops the whole test ("The last worker went
missing, stopping test", ``MasterRunner.heartbeat_worker``). Every worker here is a child of
``rtcsim``, which bounds the run itself, so a worker is never given up within a run. locust
reads the constant when a worker connects and at each heartbeat, so setting it here, where the
master imports the locustfile, is enough."""
locust_runners.HEARTBEAT_LIVENESS = WORKER_SILENCE_S


def gevent_wait(future: concurrent.futures.Future[T], timeout_s: float) -> T:
    """Wait for a media-loop future while letting the other greenlets run."""
    deadline = time.monotonic() + timeout_s
    while not future.done():
        if time.monotonic() > deadline:
            future.cancel()
            raise TimeoutError(f"media loop gave no answer within {timeout_s:.0f} s")
        gevent.sleep(POLL_S)
    return future.result()


RUN_ID_OPTION = "rtcsim_run_id"
"""locust sends custom options from the master to every worker with the first ``spawn``, before
``test_start`` (``WorkerRunner.handle_message``): the run id so reaches workers on other machines,
which no environment variable of ``rtcsim``'s could."""


def _add_options(parser: Any, **_kwargs: Any) -> None:
    parser.add_argument(
        "--rtcsim-run-id",
        default=os.environ.get(RUN_ID_ENV, ""),
        help="rtcsim's run id (the master's; workers take it from the master)",
        include_in_web_ui=False,
    )


events.init_command_line_parser.add_listener(_add_options)  # type: ignore[no-untyped-call]


def run_id_of(environment: Environment | None) -> str:
    """The run id: the master's (custom option), or this process's environment, or the time."""
    options = getattr(environment, "parsed_options", None)
    given = str(getattr(options, RUN_ID_OPTION, "") or "") or os.environ.get(RUN_ID_ENV, "")
    return given or time.strftime("load-%Y%m%d-%H%M%S")


def run_dir_of(run_id: str, settings: Settings) -> Path:
    """Where this process keeps the run: ``rtcsim load``'s folder for it, or its own results
    folder (a worker on another machine keeps its copy of its part there)."""
    return Path(os.environ.get(RUN_DIR_ENV) or settings.results_dir / run_id)


def _on_init(environment: Environment, **_kwargs: Any) -> None:
    """The master fixes the run id once (a plain ``locust --master`` has none yet) so that every
    worker gets the same; then both ends of the ledger parts' messages are registered."""
    options = environment.parsed_options
    if isinstance(environment.runner, MasterRunner) and options is not None:
        setattr(options, RUN_ID_OPTION, run_id_of(environment))
    part_messages.install(environment, lambda: run_dir_of(run_id_of(environment), Settings()))


events.init.add_listener(_on_init)  # type: ignore[no-untyped-call]


class _Shared:
    """The process's load session and room allocators, made on first use."""

    session: LoadSession | None = None
    allocators: ClassVar[dict[tuple[str, int, int], RoomAllocator]] = {}
    counter = itertools.count(1)

    creating = BoundedSemaphore()
    """Users start concurrently and making the session yields (it waits on its loops): without
    this, two users could each make one and split the process's rooms between them."""

    @classmethod
    def load_session(cls, environment: Environment) -> LoadSession:
        with cls.creating:
            return cls._load_session(environment)

    @classmethod
    def _load_session(cls, environment: Environment) -> LoadSession:
        if cls.session is None:
            run_id = run_id_of(environment)
            settings = Settings()
            run_dir = run_dir_of(run_id, settings)
            run_dir.mkdir(parents=True, exist_ok=True)
            cls.session = LoadSession(
                settings, run_id=run_id, run_dir=run_dir, label="load", wait=gevent_wait
            )
        return cls.session

    @classmethod
    def allocator(cls, user: type[WebRTCUser], environment: Environment) -> RoomAllocator:
        key = (user.__name__, user.users_per_room, user.publishers_per_room)
        if key not in cls.allocators:
            worker = getattr(environment.runner, "worker_index", 0)
            prefix = f"l{os.getpid()}w{worker}-{user.__name__.lower()[:12]}"
            cls.allocators[key] = RoomAllocator(
                prefix, user.users_per_room, user.publishers_per_room
            )
        return cls.allocators[key]

    @classmethod
    def close(cls, environment: Environment) -> None:
        """Write this process's ledger part and let go; a worker sends it to the master too
        (``simulator.load.part_messages``), where the parts merge."""
        # Taken before finishing: locust may fire test_stop twice (a stop, then a quit), and
        # finishing yields; the second must find nothing to finish, or the part is written twice.
        session, cls.session = cls.session, None
        path: Path | None = None
        if session is not None:
            path = session.finish()
            logging.getLogger(__name__).info("ledger part written: %s", path)
            if plain_locust.plain():
                plain_locust.recorded.append(Path(path).parent)
        runner = environment.runner
        if isinstance(runner, WorkerRunner) and (path is not None or not cls.sent):
            part_messages.send_part(runner, path)
        cls.sent = cls.sent or path is not None
        cls.allocators.clear()

    sent = False
    """Whether this worker sent a part: a second stop (then ``quit``) sends no "no part"."""


def _on_test_stop(environment: Environment, **_kwargs: Any) -> None:
    _Shared.close(environment)


def _on_quitting(environment: Environment, **_kwargs: Any) -> None:
    """A plain ``locust -f`` run is concluded as it quits (``simulator.load.plain_locust``);
    with the web UI, locust quits before it stops the users, so the session is closed here."""
    if plain_locust.plain():
        _Shared.close(environment)
        plain_locust.conclude_recorded(environment)


events.test_stop.add_listener(_on_test_stop)  # type: ignore[no-untyped-call]
events.quitting.add_listener(_on_quitting)  # type: ignore[no-untyped-call]


def _wind_down_at(environment: Environment, play_s: float) -> None:
    """After ``play_s``: every user to zero (each finishes its visit), then quit once the
    stats have heard every leave (``simulator.load.wind_down``)."""
    gevent.sleep(play_s)
    runner = environment.runner
    assert runner is not None
    runner.start(0, wind_down.RATE)
    decision = wind_down.WindDown(wind_down.bound_s(float(environment.stop_timeout or 0)))
    while not decision.done(
        time.monotonic(), runner.user_count, *wind_down.joins_and_leaves(runner.stats)
    ):
        gevent.sleep(0.5)
    part_messages.collect(environment)  # the workers' ledger parts, over locust's link
    runner.quit()


def _on_test_start(environment: Environment, **_kwargs: Any) -> None:
    """On the master (or the only process) of an rtcsim run without an arrival shape: end the
    play time with a wind-down instead of locust's abrupt ``--run-time`` quit."""
    play = os.environ.get(wind_down.RUN_TIME_ENV)
    if play is None or environment.shape_class is not None:
        return
    if isinstance(environment.runner, WorkerRunner):
        return
    gevent.spawn(_wind_down_at, environment, float(play))


events.test_start.add_listener(_on_test_start)  # type: ignore[no-untyped-call]


class WebRTCUser(User):
    """One participant; repeats visits (join → publish/subscribe → dwell → leave)."""

    abstract = True
    users_per_room: ClassVar[int] = 3
    publishers_per_room: ClassVar[int] = 1
    plan: ClassVar[VisitPlan] = VisitPlan()

    def on_start(self) -> None:
        self.timings = Timings(self.environment.events.request)
        self.tag = f"{type(self).__name__.lower()[:12]}-{os.getpid()}-{next(_Shared.counter)}"
        self.visits = 0
        warm_clips(_Shared.load_session(self.environment), self.plan)

    @task
    def visit_room(self) -> None:
        allocator = _Shared.allocator(type(self), self.environment)
        session = _Shared.load_session(self.environment)
        seat = allocator.take()
        self.visits += 1
        try:
            visit(
                session,
                seat,
                self.plan,
                self.timings,
                f"{self.tag}-{self.visits}",
                sleep=gevent.sleep,
            )
        finally:
            if allocator.release(seat):
                session.call(session.retire_room(seat.room), 30)


class StagedArrivals(LoadTestShape):
    """An arrival shape from stages (``simulator.load.arrivals``); subclass it in a locustfile
    next to the users::

        class Shape(StagedArrivals):
            stages = ramp(12, up_s=20, hold_s=100, down_to=6, down_s=30)
    """

    abstract = True
    stages: ClassVar[list[Stage]] = []

    def __init__(self) -> None:
        check_stages(self.stages)
        super().__init__()  # type: ignore[no-untyped-call]
        self._wind_down: wind_down.WindDown | None = None

    def tick(self) -> tuple[int, float] | None:
        target = tick(self.stages, float(self.get_run_time()))  # type: ignore[no-untyped-call]
        if target is not None:
            return target
        # The stages are over: down to zero users, each finishing its visit, then the end
        # once the stats have heard every leave (simulator.load.wind_down).
        runner = self.runner
        assert runner is not None
        if self._wind_down is None:
            stop_timeout = float(runner.environment.stop_timeout or 0)
            self._wind_down = wind_down.WindDown(wind_down.bound_s(stop_timeout))
        joined, left = wind_down.joins_and_leaves(runner.stats)
        if self._wind_down.done(time.monotonic(), runner.user_count, joined, left):
            part_messages.collect(runner.environment)  # the workers' parts, then the end
            return None
        return 0, wind_down.RATE
