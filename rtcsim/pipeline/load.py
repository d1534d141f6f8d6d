"""A load run from start to verdict: locust (one process, or a master and workers on this
machine) plays the locustfile's users, every process writes its ledger part, the parts merge
into one ledger, and the run is concluded like a scenario run (documents read back, built-in
invariants, the scenario's expectations, summary, report, junit).
"""

from __future__ import annotations

import asyncio
import csv
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from rtcsim.pipeline.conclude import check_collector, conclude, new_run_folder
from rtcsim.pipeline.load_progress import LoadProgress
from rtcsim.pipeline.outcome import RunOutcome, SetupError, new_run_id
from simulator.ledger import Ledger
from simulator.load import wind_down
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
) -> list[list[str]]:
    """The locust command lines: one, or the master first and then the workers."""
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
    if workers == 0:
        return [common + run]
    master = [
        *common,
        *run,
        "--master",
        "--master-bind-host",
        "127.0.0.1",
        "--master-bind-port",
        str(master_port),
        "--expect-workers",
        str(workers),
    ]
    worker = [
        *common,
        "--worker",
        "--master-host",
        "127.0.0.1",
        "--master-port",
        str(master_port),
        "--loglevel",
        "WARNING",
    ]
    return [master] + [worker] * workers


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
) -> tuple[int, list[Path]]:
    """Run locust to its end; its exit code and the ledger parts its processes wrote. Its
    processes read their settings again: ``server`` (``rtcsim run --server``) goes to them as
    ``RTCSIM_SERVER``."""
    spec = scenario.load
    commands = locust_commands(
        locustfile,
        users=spec.users,
        spawn_rate=spec.spawn_rate,
        run_time_s=spec.run_time_s,
        workers=spec.workers,
        csv_prefix=results / "stats",
        stop_timeout_s=spec.stop_timeout_s,
        master_port=free_loopback_port(),
    )
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
        procs = [
            subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT) for cmd in commands
        ]
        progress(
            f"locust: {spec.users} users, {spec.spawn_rate:g}/s, {spec.run_time_s:g} s, "
            f"{'one process' if not spec.workers else f'a master and {spec.workers} workers'} "
            f"(log: {log_path})"
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
) -> RunOutcome:
    locustfile = (source.parent / scenario.load.locustfile).resolve()
    if not locustfile.is_file():
        raise SetupError(f"{source}: load.locustfile: no file {locustfile}")
    run_id = run_id or new_run_id()
    async with new_run_folder(scenario, settings, run_id) as results:
        return await _run(scenario, locustfile, settings, results, run_id, progress)


async def _run(
    scenario: LoadScenario,
    locustfile: Path,
    settings: Settings,
    results: Path,
    run_id: str,
    progress: Progress,
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
    )
    expected = 1 if scenario.load.workers == 0 else scenario.load.workers
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
        f"see {results / 'locust.log'}",
    )
    return await conclude(
        scenario,
        ledger,
        settings,
        results,
        progress=progress,
        extra_checks=[complete, leaves_check(results / "stats_stats.csv")],
    )


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
