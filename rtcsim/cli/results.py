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

from rtcsim.cli.output import fail, print_outcome
from rtcsim.results.documents import ndjson, read_documents, read_ndjson, sessions_and_window
from rtcsim.results.folders import ResultsError, run_folder
from rtcsim.results.recheck import recheck
from simulator.ledger import Ledger
from simulator.scenario.from_session import SessionReplayError, from_session, scenario_yaml
from simulator.settings import Settings

scenario_app = typer.Typer(help="Scenario files: generate them from recorded sessions.")


def register(app: typer.Typer) -> None:
    """Add ``check``, ``export`` and the ``scenario`` group to the ``rtcsim`` app."""
    app.command("check")(check)
    app.command("export")(export)
    app.add_typer(scenario_app, name="scenario")


# -- commands ---------------------------------------------------------------------------------
def check(run_id: Annotated[str, typer.Argument(help="a run id: a folder of results/")]) -> None:
    """Verify a past run again against Elasticsearch; rewrite its summary.json and junit.xml."""
    try:
        outcome = asyncio.run(recheck(Settings(), run_id))
    except ResultsError as exc:
        raise fail(str(exc)) from None
    print_outcome(outcome)
    raise typer.Exit(0 if outcome.passed else 1)


def export(
    run_id: Annotated[str, typer.Argument(help="a run id: a folder of results/")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="file to write (default: stdout)")
    ] = None,
) -> None:
    """A run's documents as NDJSON, one per line, in timestamp order."""
    settings = Settings()
    try:
        ledger = Ledger.read(run_folder(settings, run_id) / "ledger.json")
        documents = asyncio.run(read_documents(settings, *sessions_and_window(ledger)))
    except ResultsError as exc:
        raise fail(str(exc)) from None
    data = ndjson(documents)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        output.write_bytes(data)
        typer.echo(f"{len(documents)} documents written to {output}", err=True)


@scenario_app.command("from-session")
def scenario_from_session(
    session_id: Annotated[str, typer.Argument(help="the session (OpenVidu sessionId) to replay")],
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
    settings = Settings()
    try:
        if from_file is not None:
            documents = read_ndjson(from_file)
        else:
            if index is not None:
                settings = settings.model_copy(update={"es_index": index})
            documents = asyncio.run(read_documents(settings, [session_id]))
        text = scenario_yaml(from_session(documents, session_id, name=name))
    except (ResultsError, SessionReplayError) as exc:
        raise fail(str(exc)) from None
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"scenario written to {output}", err=True)
