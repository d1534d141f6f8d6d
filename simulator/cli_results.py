"""``rtcsim check``, ``rtcsim export`` and ``rtcsim scenario from-session``: working with the
results of past runs and with recorded sessions.

Registered on the main app by ``register(app)`` (``simulator.cli``). Exit codes as ``rtcsim
run``: 0 passed, 1 a check failed, 2 setup error (unknown run id, Elasticsearch unreachable,
unreadable input).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from elastic_transport import TransportError
from elasticsearch import ApiError, AsyncElasticsearch

from simulator.run.execute import RunOutcome, write_summary
from simulator.run.junit import write_junit
from simulator.run.ledger import Ledger
from simulator.scenario.from_session import SessionReplayError, from_session, scenario_yaml
from simulator.scenario.loader import ScenarioError, load_any_scenario
from simulator.settings import Settings
from simulator.verify.invariants import Tolerances
from simulator.verify.store_reader import Document, run_documents, session_documents
from simulator.verify.verdict import verify
from simulator.watch.verdict import invalid_reason

RECENT_RUNS = 10
ES_TIMEOUT_S = 10.0

scenario_app = typer.Typer(help="Scenario files: generate them from recorded sessions.")


class ResultsError(RuntimeError):
    """A past run or a session that cannot be read; the message says what and where."""


def register(app: typer.Typer) -> None:
    """Add ``check``, ``export`` and the ``scenario`` group to the ``rtcsim`` app."""
    app.command("check")(check)
    app.command("export")(export)
    app.add_typer(scenario_app, name="scenario")


# -- reading past runs ------------------------------------------------------------------------
def run_folder(settings: Settings, run_id: str) -> Path:
    """``results/<run-id>/`` of a finished run, or an error that lists the recent runs."""
    folder = settings.results_dir / run_id
    if run_id and "/" not in run_id and (folder / "ledger.json").is_file():
        return folder
    recent = recent_runs(settings)
    listing = ", ".join(recent) if recent else "none"
    raise ResultsError(
        f"no run {run_id!r} in {settings.results_dir} (no ledger.json); recent runs: {listing}"
    )


def recent_runs(settings: Settings, limit: int = RECENT_RUNS) -> list[str]:
    """Run ids with a ledger, newest first (run ids start with their date and time)."""
    if not settings.results_dir.is_dir():
        return []
    runs = [p.name for p in settings.results_dir.iterdir() if (p / "ledger.json").is_file()]
    return sorted(runs, reverse=True)[:limit]


async def read_documents(
    settings: Settings, session_ids: list[str], window_ms: tuple[int, int] | None = None
) -> list[Document]:
    """The sessions' documents from Elasticsearch, sorted by timestamp; with a run's time
    window, the host's samples of that time too (what ``rtcsim run`` verified)."""
    try:
        async with AsyncElasticsearch(
            settings.es_url,
            request_timeout=ES_TIMEOUT_S,
            max_retries=0,
            **settings.es_client_options(),
        ) as es:
            if window_ms is None:
                documents = await session_documents(es, settings.es_index, session_ids)
            else:
                documents = await run_documents(es, settings.es_index, session_ids, *window_ms)
    except (TransportError, ApiError) as exc:
        raise ResultsError(
            f"Elasticsearch unreachable at {settings.es_url} ({type(exc).__name__}: {exc}); "
            "start the services: rtcsim services up"
        ) from exc
    return sorted(documents, key=_timestamp)


async def recheck(settings: Settings, run_id: str) -> RunOutcome:
    """Verify a past run again against what Elasticsearch holds now (with the same ``verify``
    as ``rtcsim run``); rewrite its ``summary.json`` and ``junit.xml``."""
    folder = run_folder(settings, run_id)
    try:
        scenario = load_any_scenario(folder / "scenario.yaml")
    except ScenarioError as exc:
        raise ResultsError(f"run {run_id}: its scenario does not load: {exc}") from exc
    ledger = Ledger.read(folder / "ledger.json")
    documents = await read_documents(settings, *_sessions_and_window(ledger))
    outcome = RunOutcome(run_id, scenario.name, folder, ledger, documents)
    outcome.invalid_reason = invalid_reason(ledger.generator)  # a saturated run stays invalid
    # The tolerances ``rtcsim run`` uses (simulator.run.execute._run): same run, same verdict.
    tolerances = Tolerances(drop_slack_s=settings.drop_detection_s + 3.0)
    outcome.checks = verify(scenario, ledger, documents, tolerances)
    write_summary(outcome)
    write_junit(outcome)
    return outcome


def _sessions_and_window(ledger: Ledger) -> tuple[list[str], tuple[int, int]]:
    session_ids = [s.session_id for s in ledger.sessions.values()]
    return session_ids, (ledger.started_ms, ledger.ended_ms or ledger.started_ms)


def ndjson(documents: list[Document]) -> bytes:
    """One JSON object a line, in timestamp order (a stable sort: ties keep their order)."""
    return b"".join(orjson.dumps(d) + b"\n" for d in sorted(documents, key=_timestamp))


def read_ndjson(path: Path) -> list[Document]:
    """Documents from an NDJSON export: plain documents, or search hits with ``_source``."""
    try:
        lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read: {exc.strerror}") from exc
    documents: list[Document] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ResultsError(f"{path}:{number}: not JSON: {exc}") from exc
        if not isinstance(value, dict):
            raise ResultsError(f"{path}:{number}: a line must hold one JSON object")
        source = value.get("_source")
        documents.append(source if isinstance(source, dict) else value)
    return documents


def _timestamp(document: Document) -> int:
    value = document.get("timestamp")
    return int(value) if isinstance(value, int | float) else 0


def _fail(message: str) -> typer.Exit:
    from simulator.cli import console

    console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(2)


# -- commands ---------------------------------------------------------------------------------
def check(run_id: Annotated[str, typer.Argument(help="a run id: a folder of results/")]) -> None:
    """Verify a past run again against Elasticsearch; rewrite its summary.json and junit.xml."""
    from simulator.cli import print_outcome

    try:
        outcome = asyncio.run(recheck(Settings(), run_id))
    except ResultsError as exc:
        raise _fail(str(exc)) from None
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
        documents = asyncio.run(read_documents(settings, *_sessions_and_window(ledger)))
    except ResultsError as exc:
        raise _fail(str(exc)) from None
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
        raise _fail(str(exc)) from None
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"scenario written to {output}", err=True)
