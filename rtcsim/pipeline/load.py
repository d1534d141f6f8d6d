"""A load run from start to verdict: locust (one process, or a master and workers, on this
machine or others) plays the locustfile's users; each worker sends its ledger part to the master
over locust's own messages (``simulator.load.part_messages``), which writes them into the run
folder; the parts merge into one ledger, and the run is concluded like a scenario run (documents
read back, built-in invariants, the scenario's expectations, summary, report, junit).
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from rtcsim.pipeline.conclude import check_collector, conclude, new_run_folder
from rtcsim.pipeline.load_progress import LoadProgress
from rtcsim.pipeline.load_worker import worker_command, worker_env
from rtcsim.pipeline.outcome import RunOutcome, SetupError, new_run_id
from simulator.ledger import Ledger
from simulator.load import wind_down
from simulator.load.parts import MANIFEST
from simulator.load.session import RUN_DIR_ENV, RUN_ID_ENV
from simulator.load.timings import REQUEST_TYPE
from simulator.scenario.load import LoadScenario, LoadSpec
from simulator.settings import Settings
from simulator.verify.checks import Check, check_equal

Progress = Callable[[str], None]
MASTER_PORT = 5557
BACKSTOP_S = 30.0
"""locust's own ``--run-time`` comes this long after the wind-down's bound."""
EXIT_GRACE_S = 240.0
PROGRESS_EVERY_S = 10.0  # a line of locust stats (rtcsim.pipeline.load_progress)
"""After the run time: users finish their visit (stop timeout), recordings are converted and
every process writes its ledger part before it exits."""


@dataclass(frozen=True)
class MasterPlace:
    """Where this run's master listens and who else connects: ``remote_workers`` workers started
    elsewhere (``rtcsim load --worker --master-host HOST``), besides the spec's local ones.
    ``netns``: run the master process inside that network namespace (a "machine" of its own,
    as the scale-out test does)."""

    bind_host: str = "127.0.0.1"
    port: int = 0
    """0: a free loopback port of this run's own."""
    remote_workers: int = 0
    netns: str | None = None


def locust_commands(
    locustfile: Path,
    *,
    users: int,
    spawn_rate: float,
    run_time_s: float,
    workers: int,
    csv_prefix: Path,
    stop_timeout_s: int,
    master_port: int = MASTER_PORT,
    master_host: str = "127.0.0.1",
    remote_workers: int = 0,
) -> list[list[str]]:
    """The locust command lines: one, or the master first and then the local workers."""
    common = [sys.executable, "-m", "locust", "-f", str(locustfile)]
    run = [
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(spawn_rate),
        "--run-time",  # a backstop: the run ends with its wind-down (simulator.load.wind_down)
        f"{max(1, round(run_time_s + wind_down.bound_s(stop_timeout_s) + BACKSTOP_S))}s",
        "--stop-timeout",
        str(stop_timeout_s),
        "--csv",
        str(csv_prefix),
        "--only-summary",
        "--loglevel",
        "INFO",  # the master's account of the run's end: workers missing, stopping, quitting
    ]
    if workers + remote_workers == 0:
        return [common + run]
    master = [
        *common,
        *run,
        "--master",
        "--master-bind-host",
        master_host,
        "--master-bind-port",
        str(master_port),
        "--expect-workers",
        str(workers + remote_workers),
    ]
    return [master] + [worker_command(locustfile, master_host, master_port)] * workers


def free_loopback_port() -> int:
    """A TCP port nobody listens on now, for this run's master. A fixed port was shared by
    every run on the machine: two runs at once had each other's workers connect to their
    master (their users counted in its stats, its quit stopping them)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def merge_ledgers(run_id: str, scenario: str, parts: list[Ledger]) -> Ledger:
    """One ledger from the processes' parts (their rooms and visits never overlap: names
    carry the process id)."""
    merged = Ledger(
        run_id=run_id,
        scenario=scenario,
        seed=0,
        started_ms=min(p.started_ms for p in parts),
        ended_ms=max((p.ended_ms or p.started_ms) for p in parts),
        server=parts[0].server,
    )
    for part in parts:
        merged.sessions.update(part.sessions)
        merged.participants.update(part.participants)
        merged.recordings.extend(part.recordings)
        merged.generator.extend(part.generator)
        merged.steps.extend(part.steps)
        merged.host_samples_ms.extend(part.host_samples_ms)
    merged.host_samples_ms = sorted(set(merged.host_samples_ms))
    return merged


def play_locust(
    scenario: LoadScenario,
    locustfile: Path,
    *,
    run_id: str,
    results: Path,
    progress: Progress,
    server: str = "janus",
    place: MasterPlace | None = None,
) -> tuple[int, list[Path]]:
    """Run locust to its end; its exit code and the ledger parts in the run folder (the single
    process's, or those the master received). Its processes read their settings again:
    ``server`` (``rtcsim run --server``) goes to them as ``RTCSIM_SERVER``. Local workers keep
    their own copies in ``worker-<n>/``, as a worker on another machine keeps its own."""
    spec = scenario.load
    place = place or MasterPlace()
    commands = locust_commands(
        locustfile,
        users=spec.users,
        spawn_rate=spec.spawn_rate,
        run_time_s=spec.run_time_s,
        workers=spec.workers,
        csv_prefix=results / "stats",
        stop_timeout_s=spec.stop_timeout_s,
        master_port=place.port or free_loopback_port(),
        master_host=place.bind_host,
        remote_workers=place.remote_workers,
    )
    if place.netns is not None:
        commands[0] = ["ip", "netns", "exec", place.netns, *commands[0]]
    env = {
        **os.environ,
        "LOCUST_SKIP_MONKEY_PATCH": "1",
        RUN_ID_ENV: run_id,
        RUN_DIR_ENV: str(results),
        wind_down.RUN_TIME_ENV: str(spec.run_time_s),
        "RTCSIM_SERVER": server,
    }
    log_path = results / "locust.log"
    with log_path.open("ab") as log:
        procs = [subprocess.Popen(commands[0], env=env, stdout=log, stderr=subprocess.STDOUT)]
        for n, cmd in enumerate(commands[1:], start=1):
            own = worker_env(run_dir=results / f"worker-{n}", server=server)
            procs.append(subprocess.Popen(cmd, env=own, stdout=log, stderr=subprocess.STDOUT))
        remote = f" (+{place.remote_workers} elsewhere)" if place.remote_workers else ""
        shape = "one process" if len(commands) == 1 and not remote else "a master and"
        local = f" {spec.workers} workers" if shape != "one process" else ""
        progress(
            f"locust: {spec.users} users, {spec.spawn_rate:g}/s, {spec.run_time_s:g} s, "
            f"{shape}{local}{remote} (log: {log_path})"
        )
        wound_down_s = spec.run_time_s + wind_down.bound_s(spec.stop_timeout_s)
        deadline = time.monotonic() + wound_down_s + EXIT_GRACE_S
        started = time.monotonic()
        next_note = started + PROGRESS_EVERY_S
        stats = LoadProgress(results / "stats")
        while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
            time.sleep(0.5)
            if time.monotonic() >= next_note:
                elapsed = time.monotonic() - started
                line = stats.line(elapsed)
                done = len(list(results.glob("ledger-*.json")))
                parts = f"; {done} ledger parts" if done else ""
                progress((line or f"t={elapsed:4.0f}s locust starting") + parts)
                next_note += PROGRESS_EVERY_S
        for proc in procs:
            if proc.poll() is None:
                progress(f"locust process {proc.pid} overran; stopping it")
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
    return procs[0].returncode or 0, sorted(results.glob("ledger-*.json"))


async def run_load_scenario(
    scenario: LoadScenario,
    source: Path,
    settings: Settings,
    *,
    progress: Progress,
    run_id: str | None = None,
    place: MasterPlace | None = None,
) -> RunOutcome:
    locustfile = (source.parent / scenario.load.locustfile).resolve()
    if not locustfile.is_file():
        raise SetupError(f"{source}: load.locustfile: no file {locustfile}")
    run_id = run_id or new_run_id()
    async with new_run_folder(scenario, settings, run_id) as results:
        return await _run(
            scenario, locustfile, settings, results, run_id, progress, place or MasterPlace()
        )


async def _run(
    scenario: LoadScenario,
    locustfile: Path,
    settings: Settings,
    results: Path,
    run_id: str,
    progress: Progress,
    place: MasterPlace,
) -> RunOutcome:
    await check_collector(settings)
    progress(f"run {run_id}: load scenario {scenario.name} ({scenario.duration_s:.0f} s)")
    code, parts = await asyncio.to_thread(
        play_locust,
        scenario,
        locustfile,
        run_id=run_id,
        results=results,
        progress=progress,
        server=settings.server,
        place=place,
    )
    expected = scenario.load.workers + place.remote_workers or 1
    if not parts:
        raise SetupError(
            f"no locust process wrote its ledger (exit code {code}); see {results / 'locust.log'}"
        )
    ledger = merge_ledgers(run_id, scenario.name, [Ledger.read(p) for p in parts])
    progress(
        f"locust exited with {code}; {len(ledger.participants)} visits in "
        f"{len(ledger.sessions)} rooms from {len(parts)} processes"
    )
    complete = Check(
        "every locust process wrote its ledger part",
        len(parts) == expected,
        expected,
        len(parts),
        missing_parts(results) or f"see {results / 'locust.log'}",
    )
    return await conclude(
        scenario,
        ledger,
        settings,
        results,
        progress=progress,
        extra_checks=[complete, leaves_check(results / "stats_stats.csv")],
    )


def missing_parts(results: Path) -> str:
    """The workers whose part never reached the master, by name, from its manifest
    (``simulator.load.part_messages``); empty when none is missing or there is no manifest."""
    try:
        manifest = json.loads((results / MANIFEST).read_text())
        names = [str(name) for name in manifest.get("missing", [])]
    except (OSError, ValueError, AttributeError):
        return ""
    return f"no ledger part from {', '.join(names)}" if names else ""


def leaves_check(stats_csv: Path) -> Check:
    """locust's stats count one ``leave`` for every successful ``join``: users stopped by
    locust left inside its statistics too (``simulator.load.wind_down``)."""
    name = "locust counted a leave for every successful join"
    try:
        with stats_csv.open(newline="") as file:
            rows = {row["Name"]: row for row in csv.DictReader(file) if row["Type"] == REQUEST_TYPE}
        join, leave = rows.get("join"), rows.get("leave")
        joined = int(join["Request Count"]) - int(join["Failure Count"]) if join else 0
        left = int(leave["Request Count"]) if leave else 0
    except (OSError, KeyError, ValueError) as exc:
        return Check(name, False, "locust's stats CSV", f"unreadable: {exc}", str(stats_csv))
    return check_equal(name, joined, left, f"joins and leaves in {stats_csv.name}")


PLAIN_SCENARIO = "locust"
"""The name a plain ``locust -f`` run is recorded under (it has no scenario file)."""


async def conclude_folder(folder: Path, settings: Settings, *, progress: Progress) -> RunOutcome:
    """Conclude a locust run started without ``rtcsim load`` (``simulator.load.plain_locust``):
    its processes' ledger parts in ``folder`` merged, then the documents read back and checked
    as after ``rtcsim load``; ``scenario.yaml`` written so ``rtcsim check`` can redo it."""
    scenario, ledger, parts, extra = await asyncio.to_thread(_plain_run, folder)
    await check_collector(settings)
    progress(
        f"run {ledger.run_id}: {len(ledger.participants)} visits in {len(ledger.sessions)} "
        f"rooms from {parts} locust process(es)"
    )
    return await conclude(scenario, ledger, settings, folder, progress=progress, extra_checks=extra)


def _plain_run(folder: Path) -> tuple[LoadScenario, Ledger, int, list[Check]]:
    parts = sorted(folder.glob("ledger-*.json"))
    if not parts:
        raise SetupError(f"{folder}: no ledger part (ledger-*.json): no locust run recorded here")
    ledgers = [Ledger.read(path) for path in parts]
    ledger = merge_ledgers(ledgers[0].run_id, PLAIN_SCENARIO, ledgers)
    scenario = LoadScenario(
        name=PLAIN_SCENARIO,
        description="a plain `locust -f` run, concluded when locust quit",
        load=LoadSpec(locustfile="(locust -f)", users=min(500, max(1, len(ledger.participants)))),
    )
    text = yaml.safe_dump(scenario.model_dump(mode="json", by_alias=True), sort_keys=False)
    (folder / "scenario.yaml").write_text(text)
    stats = folder / "stats_stats.csv"
    return scenario, ledger, len(parts), [leaves_check(stats)] if stats.is_file() else []
