"""``rtcsim check``, ``rtcsim export`` and ``rtcsim scenario from-session``: working with the
results of past runs and with recorded sessions (``rtcsim.results``).

Exit codes as ``rtcsim run``: 0 passed, 1 a check failed, 2 setup error (unknown run id,
Elasticsearch unreachable, unreadable input).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer

from rtcsim.cli.framework import App, load_settings
from rtcsim.cli.output import FileResult, console, fail, print_json, print_outcome, print_verdict
from rtcsim.cli.run import ResultsDir
from rtcsim.library import library_name, library_scenarios
from rtcsim.results.documents import REPLAY_TYPES, export_to, read_documents, read_ndjson
from rtcsim.results.folders import ResultsError
from rtcsim.results.recheck import recheck
from simulator.scenario.from_session import SessionReplayError, from_session, scenario_yaml
from simulator.scenario.loader import ScenarioError, read_scenario_file
from simulator.verify.export import ExportIncomplete, atomic_output

scenario_app = App(
    help="Scenario files: the library shipped with rtcsim, replays of recorded sessions."
)


def register(app: typer.Typer) -> None:
    """Add ``check``, ``export`` and the ``scenario`` group (``list``, ``from-session``) to
    the ``rtcsim`` app."""
    app.command("check")(check)
    app.command("export")(export)
    app.add_typer(scenario_app, name="scenario")


# -- commands ---------------------------------------------------------------------------------
def check(
    run_id: Annotated[str, typer.Argument(help="a run id: a folder of results/", metavar="RUN_ID")],
    results_dir: ResultsDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="the outcome as JSON on stdout")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="only the verdict line")] = False,
) -> None:
    """Verify a past run again against Elasticsearch; rewrite its summary.json and junit.xml
    (left as they were, exit 2, when Elasticsearch holds none of the run's documents)."""
    settings = load_settings(results_dir=results_dir)
    try:
        outcome = asyncio.run(recheck(settings, run_id))
    except ResultsError as exc:
        raise fail(str(exc)) from None
    result = FileResult(outcome.results_dir, outcome)
    if as_json:
        print_json([result])
    elif quiet:
        print_verdict(outcome)
    else:
        print_outcome(outcome)
    raise typer.Exit(outcome.exit_code)


def export(
    run_id: Annotated[str, typer.Argument(help="a run id: a folder of results/", metavar="RUN_ID")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="file to write (default: stdout)")
    ] = None,
    results_dir: ResultsDir = None,
) -> None:
    """A run's documents as NDJSON, one per line, in timestamp order: all of them, or exit 1.

    The number written must equal Elasticsearch's count for the run (the point-in-time's and
    the _count API's); otherwise the export fails with the counts, and ``-o FILE`` is not
    written at all."""
    settings = load_settings(results_dir=results_dir)
    try:
        if output is None:
            written = asyncio.run(export_to(settings, run_id, sys.stdout.buffer))
            sys.stdout.buffer.flush()
        else:
            with atomic_output(output) as file:
                written = asyncio.run(export_to(settings, run_id, file))
            typer.echo(f"{written} documents written to {output}", err=True)
    except ResultsError as exc:
        raise fail(str(exc)) from None
    except ExportIncomplete as exc:
        console.print(f"[bold red]export incomplete:[/] {exc}")
        raise typer.Exit(1) from None


@scenario_app.command("list")
def scenario_list(
    show_path: Annotated[bool, typer.Option("--paths", help="the files' paths too")] = False,
) -> None:
    """The scenario library shipped with rtcsim: run one by name (``rtcsim run smoke``)."""
    for path in library_scenarios():
        name = library_name(path)
        try:
            scenario = read_scenario_file(path).scenario
            description = (
                scenario.description.strip().splitlines()[0] if scenario.description else ""
            )
        except ScenarioError as exc:
            description = f"(does not load: {str(exc).splitlines()[0]})"
        where = f"  {path}" if show_path else ""
        console.print(f"[bold]{name}[/]  {description}{where}", highlight=False, soft_wrap=True)


@scenario_app.command("from-session")
def scenario_from_session(
    session_id: Annotated[
        str, typer.Argument(help="the session (OpenVidu sessionId) to replay", metavar="SESSION_ID")
    ],
    index: Annotated[str | None, typer.Option(help="index to read (default: settings)")] = None,
    from_file: Annotated[
        Path | None,
        typer.Option("--from-file", help="read an NDJSON export instead of the index"),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="file to write (default: stdout)")
    ] = None,
    name: Annotated[str | None, typer.Option(help="the scenario's name")] = None,
) -> None:
    """A scenario that replays a recorded session's timeline (from its cdr events)."""
    settings = load_settings()
    try:
        if from_file is not None:
            documents = read_ndjson(from_file)
        else:
            if index is not None:
                settings = settings.model_copy(update={"es_index": index})
            documents = asyncio.run(read_documents(settings, [session_id], types=REPLAY_TYPES))
        text = scenario_yaml(from_session(documents, session_id, name=name))
    except (ResultsError, SessionReplayError) as exc:
        raise fail(str(exc)) from None
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"scenario written to {output}", err=True)
