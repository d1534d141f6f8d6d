"""Benchmarks 1 and 2: how many streams one generator process carries, beside pion, and what a
second process adds.

A *stream* is one subscriber receiving the video (640x480@30 VP8, ~1 Mbit/s) and the audio
(Opus) of one publisher, one-way, through the real Janus. Publishers run in processes of their
own (``bench.publishers``), so the measured processes only receive; every window also checks the
publishers' own health (each sent >= 29 fps, its loop neither late nor saturated): a window
whose publishers were not healthy says nothing about the receiver and counts as degraded, so a
knee is never the sending side's.

1. **Streams per core**, rtcsim then pion in the same run against the same publishers: one
   receiving process ramps (``bench.knee_search.ramp``: +50 % until a window degrades, then
   bisect) until it degrades (loss > 0.5 %, lag p95 > 100 ms, video < 29 fps, or saturated); its
   knee is measured once more over a longer window; streams per core = streams / cores that
   process used (user + system, all threads). rtcsim's subscribers are the cheap ones
   (``bench.generator_worker``); pion's are ``bench/pion`` (``bench.pion_build``). Benchmark 1
   reports rtcsim's figure and its ratio to pion's, and then ramps rtcsim once more for each
   further ``PublisherKind``: simulcast publishers (three layers sent by rid, each subscriber
   receiving the full-size one), whose streams per core it reports beside the first.
2. **Two processes**: two rtcsim receiving processes ramp side by side (each the same count);
   ratio = streams the two carry at their knee / streams one carries at its own (benchmark 1's
   knee, from the same run).

Each window also records what else held the machine (``bench.measure``): Janus's cores and the
machine's busy fraction (``/proc/stat``), so a knee set by the machine rather than the process
shows as such.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import pion_build
from bench.common import JANUS_RAMPS_DONE, BenchResult, Progress
from bench.knee_search import FIRST_STEP, RampResult, Receivers, ramp
from bench.publishers import (
    PUBLISHER_KINDS,
    SINGLE_LAYER,
    PublisherKind,
    Publishers,
    subscriber_args,
)
from bench.workers import Worker, worker_command
from rtcsim.services import livekit, livekit_build, stack
from simulator.settings import Settings

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


@dataclass
class _Memo:
    """Benchmark 1's knee, reused by benchmark 2 when both run in one ``make bench``."""

    knee: int | None = None
    knee_window: dict[str, Any] | None = None


_memo = _Memo()


def _rtcsim_receiver(settings: Settings, pubs: Publishers, label: str) -> Worker:
    extra = subscriber_args(pubs.kind, pubs.feeds, label)
    return Worker(label, worker_command(settings, pubs.server, "subscribe", pubs.room, *extra))


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
