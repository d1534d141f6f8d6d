"""Benchmarks 1 and 2: how many streams one generator process carries, beside pion, and what a
second process adds.

A *stream* is one subscriber receiving the video (640x480@30 VP8, ~1 Mbit/s) and the audio
(Opus) of one publisher, one-way, through the real Janus. Publishers run in processes of their
own (``PUBLISHER_PROCESSES`` x ``PUBLISHERS_PER_PROCESS``, subscribers spread over them), so the
measured processes only receive; every window also checks the publishers' own health (each sent
>= 29 fps, its loop neither late nor saturated): a window whose publishers were not healthy
says nothing about the receiver and counts as degraded, so a knee is never the sending side's.

1. **Streams per core**, rtcsim then pion in the same run against the same publishers: one
   receiving process ramps (``bench.ramp.Ramp``: +50 % until a window degrades, then bisect)
   until it degrades (loss > 0.5 %, lag p95 > 100 ms, video < 29 fps, or saturated); its
   knee is measured once more over a longer window; streams per core = streams / cores that
   process used (user + system, all threads). rtcsim's subscribers are the cheap ones
   (``bench.generator_worker``); pion's are ``bench/pion`` (``bench.pion_build``). Benchmark 1
   reports rtcsim's figure and its ratio to pion's, and then ramps rtcsim once more for each
   further ``PublisherKind``: simulcast publishers (three layers sent by rid, each subscriber
   receiving the full-size one), whose streams per core it reports beside the first.
2. **Two processes**: two rtcsim receiving processes ramp side by side (each the same count);
   ratio = streams the two carry at their knee / streams one carries at its own (benchmark 1's
   knee, from the same run).

Each window also records what else held the machine: Janus's cores and the machine's busy
fraction (``/proc/stat``), so a knee set by the machine rather than the process shows as such.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bench import pion_build
from bench.common import JANUS_RAMPS_DONE, BenchResult, Progress
from bench.ramp import PublisherWindow, Ramp, Window, publish_window, receive_window, summarize
from rtcsim.services import janus, livekit, livekit_build, stack
from simulator.settings import Settings

PUBLISHER_PROCESSES = 2
PUBLISHERS_PER_PROCESS = 2
BITRATE_BPS = 1_000_000
SETTLE_S = 2.0
STEP_WINDOW_S = 5.0
FINAL_WINDOW_S = 10.0
RAMP_BUDGET_S = 90.0
"""A ramp stops at this age with the knee it has (reported as ``budget_hit``), to keep
``make bench`` within its time."""
FIRST_STEP = 100
QUICK_FIRST_STEP = 20
QUICK_RAMP_BUDGET_S = 30.0
"""``--quick`` (a smoke run of benchmark 1, figures only indicative): small steps, short ramps."""
TARGET_PER_CORE = 800
TARGET_VS_PION = 0.5
TARGET_TWO = 1.9
LIVEKIT_FIRST_STEP = 20
LIVEKIT_BUDGET_S = 60.0
"""Benchmark 1 on LiveKit is a short ramp (each stream is a LiveKit participant of its own,
slower to connect than a Janus handle; the machine is shared): indicative, not a limit."""
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class _Memo:
    """Benchmark 1's knee, reused by benchmark 2 when both run in one ``make bench``."""

    knee: int | None = None
    knee_window: dict[str, Any] | None = None


_memo = _Memo()


class Worker:
    """A child process spoken to with JSON lines (``bench.generator_worker`` or pion)."""

    def __init__(self, name: str, command: Sequence[str]) -> None:
        self.name = name
        self.proc = subprocess.Popen(
            list(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            start_new_session=True,  # its own autogroup: the scheduler's share of a program
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr: list[str] = []
        assert self.proc.stdout is not None
        assert self.proc.stderr is not None
        self._pumps = [
            threading.Thread(target=self._pump, args=(stream, into), daemon=True)
            for stream, into in ((self.proc.stdout, self._lines), (self.proc.stderr, None))
        ]
        for pump in self._pumps:
            pump.start()

    def _pump(self, stream: IO[str], into: queue.Queue[str | None] | None) -> None:
        with stream:  # closed at the child's end of output, not left to the collector
            for line in stream:
                if into is not None:
                    into.put(line)
                else:
                    self._stderr.append(line)
                    del self._stderr[:-100]
        if into is not None:
            into.put(None)

    def send(self, **command: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()

    def read(self, event: str, timeout_s: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"{self.name}: no {event!r} in {timeout_s:.0f} s") from None
            if line is None:
                self.stop(5)
                tail = "".join(self._stderr)[-1500:]
                raise RuntimeError(f"{self.name} ended (exit {self.proc.returncode}): {tail}")
            if not line.startswith("{"):
                continue
            message: dict[str, Any] = json.loads(line)
            if message.get("event") == event:
                return message
            if message.get("event") == "error":
                raise RuntimeError(f"{self.name}: {message.get('error')}")

    def stop(self, timeout_s: float = 90.0) -> None:
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        for pump in self._pumps:
            pump.join(5)  # its pipe reaches its end with the child: the pump closes it


def _python_worker(settings: Settings, role: str, room: str, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "bench.generator_worker",
        role,
        "--janus-url",
        settings.janus_url,
        "--netns",
        settings.client_netns,
        "--room",
        room,
        "--clips",
        str(settings.cache_dir / "clips"),
        *extra,
    ]


def _server_worker(settings: Settings, server: str, role: str, room: str, *extra: str) -> list[str]:
    """A generator process on a server other than Janus (``bench.server_worker``)."""
    command = [sys.executable, "-m", "bench.server_worker", role, "--server", server]
    return [*command, "--room", room, "--clips", str(settings.cache_dir / "clips"), *extra]


def _worker(settings: Settings, server: str, role: str, room: str, *extra: str) -> list[str]:
    if server == "janus":
        return _python_worker(settings, role, room, *extra)
    return _server_worker(settings, server, role, room, *extra)


@dataclass(frozen=True)
class PublisherKind:
    """What the publishers of a benchmark 1 ramp send and what their subscribers ask for:
    ``publisher_args`` go to every publishing ``bench.generator_worker`` process,
    ``subscriber_args`` to every rtcsim receiving one. Benchmark 1 ramps rtcsim once per kind
    (pion on the first only) and reports streams per core for each."""

    name: str
    sends: str
    """What one publisher sends, for the progress lines."""
    receives: str
    """What each subscriber gets of one publisher."""
    publisher_args: tuple[str, ...] = ()
    subscriber_args: tuple[str, ...] = ()


SINGLE_LAYER = PublisherKind(
    "single layer",
    f"640x480@30 VP8 ~{BITRATE_BPS // 1000} kbit/s + Opus",
    "the video and the audio",
)
SIMULCAST_RECEIVED_SUBSTREAM = 2
"""Janus's index of the layer a simulcast kind's subscribers receive: the highest (640x480,
~500 kbit/s), which is also what Janus relays when a subscriber names none."""
SIMULCAST = PublisherKind(
    "simulcast",
    "simulcast 640x480 + 320x240 + 160x120 @30 VP8 (~500 + 170 + 50 kbit/s, rids h m l) + Opus",
    f"substream {SIMULCAST_RECEIVED_SUBSTREAM} (640x480 ~500 kbit/s, all temporal layers) "
    "and the audio",
    publisher_args=("--simulcast",),
    subscriber_args=("--substream", str(SIMULCAST_RECEIVED_SUBSTREAM)),
)
PUBLISHER_KINDS: tuple[PublisherKind, ...] = (SINGLE_LAYER, SIMULCAST)


def publisher_args(kind: PublisherKind, index: int, total: int) -> list[str]:
    """The arguments of the ``index``-th publishing process of ``kind``."""
    extra = ["--publishers", str(PUBLISHERS_PER_PROCESS), "--label", f"p{index}"]
    extra += ["--bitrate", str(BITRATE_BPS), "--room-publishers", str(total + 4)]
    if index == 0:
        extra.append("--create-room")
    return extra + list(kind.publisher_args)


class Publishers:
    """The publishing processes; the first creates the room."""

    def __init__(
        self,
        settings: Settings,
        progress: Progress,
        kind: PublisherKind = SINGLE_LAYER,
        server: str = "janus",
    ) -> None:
        self.server = server
        self.room = f"bench-gen-{secrets.token_hex(3)}"
        self.kind = kind
        total = PUBLISHER_PROCESSES * PUBLISHERS_PER_PROCESS
        progress(
            f"publishers ({kind.name}): {total} x {kind.sends}, in {PUBLISHER_PROCESSES} processes"
        )
        self.workers: list[Worker] = []
        self.feeds: list[str] = []
        try:
            for index in range(PUBLISHER_PROCESSES):
                extra = publisher_args(kind, index, total)
                worker = Worker(
                    f"publishers-{index}", _worker(settings, server, "publish", self.room, *extra)
                )
                self.workers.append(worker)
                self.feeds += worker.read("ready", 180)["feeds"]
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        for worker in reversed(self.workers):  # the room's creator last: it destroys the room
            worker.stop()

    def __enter__(self) -> Publishers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _MachineMeter:
    """The media server's CPU and the machine's busy fraction over a window (``/proc``)."""

    def __init__(self, settings: Settings, server: str = "janus") -> None:
        self.server = server
        self.janus_pid = (livekit if server == "livekit" else janus).pid(settings)

    def read(self) -> tuple[float, float, float, float]:
        """(monotonic s, the server's CPU s, machine busy jiffies, machine total jiffies)."""
        janus_s = 0.0
        if self.janus_pid is not None:
            try:
                fields = Path(f"/proc/{self.janus_pid}/stat").read_text().rsplit(")", 1)[1].split()
                janus_s = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            except (OSError, IndexError, ValueError):
                pass
        cpu = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = cpu[3] + (cpu[4] if len(cpu) > 4 else 0)
        return time.monotonic(), janus_s, float(sum(cpu) - idle), float(sum(cpu))

    def window(self, before: tuple[float, ...], after: tuple[float, ...]) -> dict[str, float]:
        """``janus_cores`` is the server's cores whichever it is (the key bench.json always
        had); ``server`` says which."""
        seconds = after[0] - before[0]
        total = after[3] - before[3]
        return {
            "janus_cores": round((after[1] - before[1]) / seconds, 3) if seconds > 0 else 0.0,
            "machine_busy_pct": round(100 * (after[2] - before[2]) / total, 1) if total else 0.0,
        }


@dataclass
class Measured:
    receivers: list[Window]
    publishers: list[PublisherWindow]
    machine: dict[str, float]

    def degraded(self) -> list[str]:
        why = [f"receiver: {r}" for w in self.receivers for r in w.degraded()]
        return why + [f"publishers: {r}" for p in self.publishers for r in p.degraded()]

    def brief(self) -> dict[str, Any]:
        return {
            **summarize(self.receivers),
            "receivers": [w.brief() for w in self.receivers],
            "publishers": [p.brief() for p in self.publishers],
            **self.machine,
            "degraded": self.degraded(),
        }


def measure(
    receivers: Sequence[Worker], publishers: Publishers, meter: _MachineMeter, seconds: float
) -> Measured:
    """One window over every receiving and publishing process at once."""
    everyone = [*receivers, *publishers.workers]
    for worker in everyone:
        worker.send(cmd="snapshot")
    before = [worker.read("snapshot", 60) for worker in everyone]
    machine_before = meter.read()
    time.sleep(seconds)
    for worker in everyone:
        worker.send(cmd="snapshot")
    after = [worker.read("snapshot", 60) for worker in everyone]
    machine = meter.window(machine_before, meter.read())
    n = len(receivers)
    return Measured(
        [receive_window(b, a) for b, a in zip(before[:n], after[:n], strict=True)],
        [publish_window(b, a) for b, a in zip(before[n:], after[n:], strict=True)],
        machine,
    )


@dataclass
class RampResult:
    knee: int
    """Streams per process at the knee."""
    final: Measured | None
    steps: list[dict[str, Any]] = field(default_factory=list)
    budget_hit: bool = False

    def brief(self) -> dict[str, Any]:
        return {
            "knee_per_process": self.knee,
            "final": self.final.brief() if self.final is not None else None,
            "steps": self.steps,
            "budget_hit": self.budget_hit,
        }


class Receivers:
    """The receiving processes of a ramp, started afresh after a degraded window: an overload
    can leave lasting damage behind (Janus sessions timed out, consent lapsed), and the count
    tried next must be measured on healthy streams only."""

    def __init__(self, make: Callable[[], list[Worker]]) -> None:
        self.make = make
        self.workers: list[Worker] = []
        self.current = 0

    def start(self) -> None:
        self.stop()
        self.workers = self.make()
        for worker in self.workers:
            worker.read("hello", 60)
        self.current = 0

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.workers = []
        self.current = 0

    def adjust(self, count: int) -> int:
        """Bring every process to ``count`` streams, in parallel; the connects that failed."""
        current, self.current = self.current, count
        if count == current:
            return 0
        for worker in self.workers:
            if count > current:
                worker.send(cmd="add", count=count - current)
            else:
                worker.send(cmd="remove", count=current - count)
        failed = 0
        for worker in self.workers:
            if count > current:
                failed += int(worker.read("added", 900).get("failed", 0))
            else:
                worker.read("removed", 300)
        return failed


def ramp(
    label: str,
    receivers: Receivers,
    publishers: Publishers,
    settings: Settings,
    progress: Progress,
    *,
    first: int = FIRST_STEP,
    budget_s: float = RAMP_BUDGET_S,
) -> RampResult:
    """Ramp every receiving process to the same count until a window degrades; the knee, and
    a longer window measured at it."""
    meter = _MachineMeter(settings, publishers.server)
    plan = Ramp(first=first)
    began = time.monotonic()
    result = RampResult(0, None)
    try:
        receivers.start()
        while (count := plan.next()) is not None:
            if time.monotonic() - began > budget_s:
                result.budget_hit = True
                progress(f"  {label}: ramp stopped by its time budget ({budget_s:.0f} s)")
                break
            step = _probe(receivers, publishers, meter, count)
            plan.record(count, not step["degraded"])
            result.steps.append(step)
            progress(f"  {label}: {_describe(step)}")
            if step["degraded"]:
                receivers.start()  # the next count starts from healthy streams
        result.knee = plan.knee
        for attempt in range(2):
            if result.knee <= 0:
                break
            receivers.adjust(result.knee)
            time.sleep(SETTLE_S)
            final = measure(receivers.workers, publishers, meter, FINAL_WINDOW_S)
            brief = {"per_process": result.knee, **final.brief()}
            progress(f"  {label} at the knee: {_describe(brief)}")
            if not final.degraded() or attempt == 1:
                result.final = final
                break
            result.knee = int(result.knee * 0.9) // plan.quantum * plan.quantum
            receivers.start()
    finally:
        receivers.stop()
    return result


def _probe(
    receivers: Receivers, publishers: Publishers, meter: _MachineMeter, count: int
) -> dict[str, Any]:
    began = time.monotonic()
    failed = receivers.adjust(count)
    connect_s = time.monotonic() - began
    time.sleep(SETTLE_S)
    measured = measure(receivers.workers, publishers, meter, STEP_WINDOW_S)
    why = measured.degraded() + ([f"{failed} connects failed"] if failed else [])
    return {
        "per_process": count,
        "connect_s": round(connect_s, 1),
        **measured.brief(),
        "degraded": why,
    }


def _describe(step: dict[str, Any]) -> str:
    text = (
        f"{step['per_process']} streams/process: {step['cores']} core, "
        f"{step['streams_per_core']} streams/core, publishers "
        + ", ".join(f"{p['fps_min']} fps" for p in step["publishers"])
        + f", server {step['janus_cores']} core, machine {step['machine_busy_pct']} % busy"
    )
    for r in step["receivers"]:
        text += f"; loss {r['loss_pct']} %, lag p95 {r['lag_p95_ms']} ms"
        text += f", {r['video_fps_per_stream']} fps"
    if step["degraded"]:
        text += " -> DEGRADED: " + "; ".join(step["degraded"])
    return text


def subscriber_args(kind: PublisherKind, feeds: Sequence[str], label: str) -> list[str]:
    """The arguments of an rtcsim receiving process on ``kind``'s publishers."""
    return ["--feeds", ",".join(feeds), "--label", label, *kind.subscriber_args]


def _rtcsim_receiver(settings: Settings, pubs: Publishers, label: str) -> Worker:
    extra = subscriber_args(pubs.kind, pubs.feeds, label)
    return Worker(label, _worker(settings, pubs.server, "subscribe", pubs.room, *extra))


def _pion_receiver(settings: Settings, pubs: Publishers, binary: Path) -> Worker:
    command = ["ip", "netns", "exec", settings.client_netns, str(binary)]
    command += ["-janus-url", settings.janus_url, "-room", pubs.room]
    command += ["-feeds", ",".join(pubs.feeds), "-label", "pion"]
    return Worker("pion", command)


def _ramp_one(
    label: str,
    make: Callable[[], Worker],
    pubs: Publishers,
    settings: Settings,
    progress: Progress,
    quick: bool = False,
) -> RampResult:
    if quick:
        return ramp(
            label,
            Receivers(lambda: [make()]),
            pubs,
            settings,
            progress,
            first=QUICK_FIRST_STEP,
            budget_s=QUICK_RAMP_BUDGET_S,
        )
    return ramp(label, Receivers(lambda: [make()]), pubs, settings, progress)


def _per_core(result: RampResult) -> float:
    if result.final is None or not result.final.receivers:
        return 0.0
    return round(result.final.receivers[0].streams_per_core, 1)


def run_streams_per_core(
    settings: Settings, progress: Progress, *, quick: bool = False
) -> BenchResult:
    """Benchmark 1: streams per core of one receiving process, rtcsim and pion side by side,
    then rtcsim again on each further publisher kind (simulcast: three layers sent, one
    received). ``quick``: shorter ramps from a smaller first step (a smoke run)."""
    binary = pion_build.ensure_built(settings, progress)
    load_before = os.getloadavg()
    with Publishers(settings, progress, SINGLE_LAYER) as pubs:
        progress("rtcsim: one receiving process (cheap subscribers, counted from RTP headers)")
        ours = _ramp_one(
            "rtcsim",
            lambda: _rtcsim_receiver(settings, pubs, "rtcsim"),
            pubs,
            settings,
            progress,
            quick,
        )
        progress("pion: one receiving process (pion/webrtc v4, the same room and feeds)")
        theirs = _ramp_one(
            "pion", lambda: _pion_receiver(settings, pubs, binary), pubs, settings, progress, quick
        )
    by_kind = {SINGLE_LAYER.name: ours}
    for kind in PUBLISHER_KINDS[1:]:
        by_kind[kind.name] = _ramp_kind(kind, settings, progress, quick)
    JANUS_RAMPS_DONE.reach()  # benchmark 6 may start beside the LiveKit ramp
    on_livekit = _livekit_ramp(settings, progress)
    per_core, pion_per_core = _per_core(ours), _per_core(theirs)
    ratio = round(per_core / pion_per_core, 2) if pion_per_core else 0.0
    if ours.knee > 0:
        _memo.knee = ours.knee  # benchmark 2's "one process" (its own ramp would take minutes)
    return BenchResult(
        number=1,
        name="streams per core of one receiving process (and vs pion)",
        measured=per_core,
        target=TARGET_PER_CORE,
        better="higher",
        unit="streams/core",
        checks={f"vs pion >= {TARGET_VS_PION}x": ratio >= TARGET_VS_PION},
        detail={
            "rtcsim": ours.brief(),
            "pion": theirs.brief(),
            "rtcsim_knee": ours.knee,
            "pion_knee": theirs.knee,
            "rtcsim_streams_per_core": per_core,
            "pion_streams_per_core": pion_per_core,
            "ratio_to_pion": ratio,
            "pion_version": pion_build.PION_VERSION,
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
            "streams_per_core_by_publisher_kind": {k: _per_core(r) for k, r in by_kind.items()},
            "by_publisher_kind": {
                kind.name: {
                    "publishers_send": kind.sends,
                    "subscribers_receive": kind.receives,
                    "knee_per_process": by_kind[kind.name].knee,
                    "cores": _cores(by_kind[kind.name]),
                    "streams_per_core": _per_core(by_kind[kind.name]),
                    "healthy_at_knee": _final_healthy(by_kind[kind.name]),
                    "ramp": by_kind[kind.name].brief() if kind is not SINGLE_LAYER else "rtcsim",
                }
                for kind in PUBLISHER_KINDS
            },
            **_livekit_detail(on_livekit),
        },
        note=(
            ("" if _final_healthy(ours) else "rtcsim's knee window degraded on its re-measure; ")
            + ("" if _final_healthy(theirs) else "pion's knee window degraded on its re-measure; ")
            + f"rtcsim knee {ours.knee} streams at {_cores(ours)} core = {per_core}/core; "
            f"pion knee {theirs.knee} at {_cores(theirs)} core = {pion_per_core}/core; "
            f"ratio {ratio}x (target >= {TARGET_VS_PION}x)"
            + "".join(
                f"; {kind.name} publishers: knee {by_kind[kind.name].knee} at "
                f"{_cores(by_kind[kind.name])} core = {_per_core(by_kind[kind.name])}/core"
                + ("" if _final_healthy(by_kind[kind.name]) else " (knee window degraded)")
                for kind in PUBLISHER_KINDS[1:]
            )
            + (
                f"; on LiveKit: knee {on_livekit.knee} at {_cores(on_livekit)} core = "
                f"{_per_core(on_livekit)}/core"
                if on_livekit is not None
                else "; LiveKit not built: no LiveKit ramp"
            )
        ),
    )


def _ramp_kind(
    kind: PublisherKind, settings: Settings, progress: Progress, quick: bool
) -> RampResult:
    """rtcsim's ramp on fresh publishers of ``kind`` (a room of their own)."""
    label = f"rtcsim-{kind.name.replace(' ', '-')}"
    with Publishers(settings, progress, kind) as pubs:
        progress(f"rtcsim: one receiving process, {kind.name} publishers ({kind.receives})")
        return _ramp_one(
            label, lambda: _rtcsim_receiver(settings, pubs, label), pubs, settings, progress, quick
        )


def _livekit_ramp(settings: Settings, progress: Progress) -> RampResult | None:
    """The same ramp with the same cheap publishers and receive path through LiveKit, when
    it is built (``make setup SERVER=livekit``); LiveKit is started beside Janus if need be
    and stopped again if it was started here."""
    if not livekit_build.is_built(settings):
        progress("LiveKit is not built: benchmark 1 runs on Janus only")
        return None
    # LiveKit's remote estimate lives on REMB, which the counting receivers do not send: a few
    # NACKs at a busy step lowered it and nothing could raise it again (re-measures stuck at
    # 6-13 fps with no loss). The benchmark measures forwarding and receiving, so it is off.
    before = settings.model_copy(update={"server": "livekit"})
    lk = before.model_copy(update={"livekit_congestion_control": False})
    ran_before = livekit.pid(lk) is not None
    stack.up(lk)
    try:
        with Publishers(settings, progress, PUBLISHER_KINDS[0], server="livekit") as pubs:
            progress("rtcsim on LiveKit: one receiving process (a participant per stream)")
            return ramp(
                "rtcsim-livekit",
                Receivers(lambda: [_rtcsim_receiver(settings, pubs, "rtcsim-livekit")]),
                pubs,
                settings,
                progress,
                first=LIVEKIT_FIRST_STEP,
                budget_s=LIVEKIT_BUDGET_S,
            )
    finally:
        livekit.stop(lk)
        if ran_before:
            stack.up(before)  # as it was, congestion control and all


def _livekit_detail(result: RampResult | None) -> dict[str, Any]:
    if result is None:
        return {}
    return {
        "livekit": result.brief(),
        "livekit_knee": result.knee,
        "livekit_streams_per_core": _per_core(result),
    }


def _final_healthy(result: RampResult) -> bool:
    return result.final is not None and not result.final.degraded()


def _cores(result: RampResult) -> float:
    if result.final is None or not result.final.receivers:
        return 0.0
    return round(result.final.receivers[0].cores, 3)


def run_two_processes(settings: Settings, progress: Progress) -> BenchResult:
    """Benchmark 2: streams two receiving processes carry at their knee / one's."""
    with Publishers(settings, progress) as pubs:
        one_knee = _memo.knee
        alone: RampResult | None = None
        if one_knee is None:
            progress("one process alone first (benchmark 1 did not run)")
            alone = _ramp_one(
                "alone", lambda: _rtcsim_receiver(settings, pubs, "alone"), pubs, settings, progress
            )
            one_knee = alone.knee
        pair = Receivers(lambda: [_rtcsim_receiver(settings, pubs, f"pair{i}") for i in (1, 2)])
        progress(f"two processes side by side, ramped together (one alone: {one_knee} streams)")
        first = max(10, (one_knee // 2) // 10 * 10) if one_knee else FIRST_STEP
        both = ramp("pair", pair, pubs, settings, progress, first=first)
    two_streams = 2 * both.knee
    ratio = round(two_streams / one_knee, 2) if one_knee else 0.0
    cores = both.final.brief()["cores"] if both.final is not None else 0.0
    return BenchResult(
        number=2,
        name="two receiving processes against one (streams at the knee)",
        measured=ratio,
        target=TARGET_TWO,
        better="higher",
        unit="x",
        detail={
            "one_knee": one_knee,
            "two_knee_per_process": both.knee,
            "two_streams": two_streams,
            "two": both.brief(),
            "alone": alone.brief() if alone is not None else "benchmark 1's knee",
            "cpu_count": os.cpu_count(),
        },
        note=(
            f"one process alone {one_knee} streams; two side by side {both.knee} + {both.knee} "
            f"at {cores} core together"
        ),
    )


def main() -> None:
    """``python -m bench.generator``: both benchmarks, printed as JSON."""
    settings = Settings()

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    for run in (run_streams_per_core, run_two_processes):
        result = run(settings, progress)
        print(json.dumps({**result.__dict__, "met": result.met}), flush=True)


if __name__ == "__main__":
    main()
