"""``rtcsim report`` and ``rtcsim kibana import``: the dashboards as a page and in Kibana.

Registered on the main app by ``register(app)`` (``rtcsim.cli``). Exit codes: 0 done,
1 Kibana refused some objects, 2 setup error (unknown run, bad dates, service unreachable).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from rtcsim.cli.framework import App, load_settings
from rtcsim.cli.output import fail
from rtcsim.cli.run import ResultsDir
from rtcsim.report.build import REPORT_FILE, ReportError, run_scope, write_report
from rtcsim.report.kibana import KibanaError, import_objects
from rtcsim.report.model import Scope
from rtcsim.results.folders import ResultsError, run_folder

kibana_app = App(help="Kibana saved objects: OpenVidu's two dashboards on `openvidu`.")


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    app.add_typer(kibana_app, name="kibana")


def parse_time(text: str) -> int:
    """ms since the epoch, or an ISO date / date-time (UTC unless it says otherwise)."""
    if text.isdigit():
        return int(text)
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r}: neither ms since the epoch nor an ISO date") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


def report(
    run_id: Annotated[
        str | None, typer.Argument(help="a run id (a folder of results/)", metavar="RUN_ID")
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="range start: ms since the epoch or ISO date")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="range end: ms since the epoch or ISO date")
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="file to write")] = None,
    results_dir: ResultsDir = None,
) -> None:
    """OpenVidu's Sessions and Recordings dashboards as one offline HTML page: for a run
    (default results/RUN_ID/report.html), or for every document of a time range."""
    settings = load_settings(results_dir=results_dir)
    if (run_id is None) == (start is None and end is None):
        raise fail("give a RUN_ID, or --from and --to (not both)")
    folder: Path | None = None
    try:
        if run_id is not None:
            folder = run_folder(settings, run_id)
            scope = run_scope(folder)
            target = output or folder / REPORT_FILE
        else:
            if start is None or end is None:
                raise fail("a range needs both --from and --to")
            begin, finish = parse_time(start), parse_time(end)
            if finish <= begin:
                raise fail("--to must come after --from")
            scope = Scope(begin, finish, (), title=f"{start} → {end}")
            target = output or settings.results_dir / f"report-{begin}-{finish}.html"
        built = asyncio.run(write_report(settings, scope, target, folder=folder))
    except (ResultsError, ReportError) as exc:
        raise fail(str(exc)) from None
    typer.echo(f"report written to {target} ({built.compute_ms:.0f} ms of queries)")


@kibana_app.command("import")
def kibana_import(
    url: Annotated[str, typer.Option(help="Kibana's base URL")] = "http://127.0.0.1:5601",
    user: Annotated[str | None, typer.Option(help="basic-auth user")] = None,
    password: Annotated[str | None, typer.Option(help="basic-auth password")] = None,
    kibana_version: Annotated[
        int | None, typer.Option(help="7, 8 or 9 (default: asked from Kibana's /api/status)")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            exists=True, dir_okay=False, help="an NDJSON file instead of the shipped objects"
        ),
    ] = None,
    space: Annotated[str | None, typer.Option(help="a Kibana space id")] = None,
) -> None:
    """Import the data view, visualizations and the two dashboards (overwriting)."""
    try:
        path, result = asyncio.run(
            import_objects(
                url, user=user, password=password, major=kibana_version, path=file, space=space
            )
        )
    except KibanaError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"{path.name}: {result.success_count} objects imported into {url}")
    for error in result.errors:
        typer.secho(f"  {error}", fg="red", err=True)
    raise typer.Exit(0 if result.success else 1)
