"""``rtcsim run``: play scenario files against the running services and check them;
``rtcsim validate``: the same checks of the files, without playing anything.

Every file is validated before the first plays (all its problems at once, file:line each) and the
services are checked once; a file that does not validate is reported and the others still run.
Exit codes: 0 passed, 1 a check failed, 2 setup error (bad scenario, services missing), 3 the run
is invalid (the generator was saturated; ``simulator.watch``); the worst of the files wins.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from rtcsim.cli.framework import error_line, exit_with, load_settings, stderr
from rtcsim.cli.live import LiveView
from rtcsim.cli.output import (
    FileResult,
    console,
    print_files,
    print_json,
    print_outcome,
    print_verdict,
)
from rtcsim.library import resolve_scenario
from rtcsim.pipeline.junit import write_junit_of
from rtcsim.pipeline.outcome import SetupError
from rtcsim.pipeline.preflight import preflight
from rtcsim.pipeline.runs import PreparedRun, play, prepare
from simulator.scenario.problems import ScenarioError
from simulator.settings import SERVERS, Settings

FILES_HELP = "scenario files (YAML or Python), or names from the library (rtcsim scenario list)"
ResultsDir = Annotated[
    Path | None,
    typer.Option(
        "--results-dir", help="where results/RUN_ID/ go (setting results_dir)", metavar="DIR"
    ),
]
ServerOption = Annotated[
    str | None,
    typer.Option(
        "--server",
        help=f"the media server to play against: {', '.join(SERVERS)} "
        "(default: the settings' server, RTCSIM_SERVER, else janus)",
        metavar="NAME",
    ),
]


def run(
    files: Annotated[list[str], typer.Argument(help=FILES_HELP, metavar="FILE")],
    results_dir: ResultsDir = None,
    junit: Annotated[
        Path | None,
        typer.Option("--junit", help="also write every run's checks to this JUnit file"),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="the outcome as JSON on stdout (progress on stderr)")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="only the verdict line of each file")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log to the terminal")] = False,
    server: ServerOption = None,
) -> None:
    """Play scenarios against the running services, check them, write results/RUN_ID/."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    settings = load_settings(results_dir=results_dir, server=server)
    prepared, results = _prepare_all(files, settings)
    if not prepared:
        _finish(results, junit=junit, as_json=as_json, quiet=quiet)
    asyncio.run(preflight(settings))  # SetupError: exit 2 before anything plays
    out = stderr if as_json else console
    for one in prepared:
        results.append(_play_one(one, settings, out=out, quiet=quiet or as_json))
    _finish(results, junit=junit, as_json=as_json, quiet=quiet)


def validate(
    files: Annotated[list[str], typer.Argument(help=FILES_HELP, metavar="FILE")],
    server: ServerOption = None,
) -> None:
    """Check scenario files without playing them: fields, names, the order of steps,
    expectations against the documents' schema, what the media server and this machine can
    do. Every problem at once, file:line each; exit 2 if any."""
    settings = load_settings(server=server)
    prepared, results = _prepare_all(files, settings)
    for one in prepared:
        kinds = {"load": "load scenario", "capacity": "capacity scenario"}
        what = next((v for k, v in kinds.items() if hasattr(one.scenario, k)), "scenario")
        console.print(f"[green]ok[/]  {one.path}: {what} {one.name}", highlight=False)
    raise exit_with([r.exit_code for r in results])


def _prepare_all(
    files: list[str], settings: Settings
) -> tuple[list[PreparedRun], list[FileResult]]:
    """Every file validated before anything plays; the broken ones reported (stderr) and kept
    as results that did not run."""
    prepared: list[PreparedRun] = []
    broken: list[FileResult] = []
    for name in files:
        try:
            path = resolve_scenario(name)
            prepared.append(prepare(path, settings))
        except ScenarioError as exc:
            error_line(str(exc))
            broken.append(FileResult(Path(name), error=str(exc)))
    return prepared, broken


def _play_one(one: PreparedRun, settings: Settings, *, out: Console, quiet: bool) -> FileResult:
    progress = (lambda _m: None) if quiet else (lambda m: out.print(f"[dim]·[/] {m}"))
    live = LiveView(out) if not quiet else None
    try:
        outcome = asyncio.run(play(one, settings, progress=progress, live=live))
    except (ScenarioError, SetupError) as exc:
        error_line(f"{one.path}: {exc}")
        return FileResult(one.path, error=str(exc))
    if quiet:
        print_verdict(outcome, out=out)
    else:
        print_outcome(outcome, out=out)
    return FileResult(one.path, outcome)


def _finish(results: list[FileResult], *, junit: Path | None, as_json: bool, quiet: bool) -> None:
    if junit is not None:
        outcomes = [r.outcome for r in results if r.outcome is not None]
        broken = [(str(r.path), r.error or "") for r in results if r.outcome is None]
        write_junit_of(outcomes, junit, broken)
    if as_json:
        print_json(results)
    elif len(results) > 1 and not quiet:
        print_files(results)
    raise exit_with([r.exit_code for r in results])
