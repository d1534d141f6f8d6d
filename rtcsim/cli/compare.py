"""``rtcsim compare BASELINE CANDIDATE``: two runs side by side, metric by metric.

Exit codes: 0 no regression, 1 a regression (a metric worse than its threshold allows), 2 a run
or a threshold that cannot be read. ``--json`` and ``--markdown`` write the comparison for CI
(a job's artefact, a pull request comment).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from rtcsim.cli.output import console, fail
from rtcsim.results.compare import (
    DEFAULT_THRESHOLDS,
    Comparison,
    ThresholdError,
    change,
    compare,
    parse_fail_on,
    parse_thresholds,
    read_run,
    read_thresholds_file,
    show,
)
from rtcsim.results.folders import ResultsError, run_folder
from simulator.settings import Settings

VERDICT_STYLE = {
    "regression": "bold red",
    "worse": "yellow",
    "better": "green",
    "same": "dim",
    "missing": "dim",
    "incomparable": "yellow",
}


def resolve_run(settings: Settings, run: str) -> Path:
    """A run id (``results/<id>/``) or a folder holding a ``summary.json``."""
    folder = Path(run)
    if folder.is_dir() and (folder / "summary.json").is_file():
        return folder
    return run_folder(settings, run)


def compare_command(
    baseline: Annotated[str, typer.Argument(help="the baseline: a run id or a run folder")],
    candidate: Annotated[str, typer.Argument(help="the candidate: a run id or a run folder")],
    fail_on: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-on",
            help="METRIC=LIMIT: 20% (relative), 0.5 (absolute), 20%+25 (both); repeatable",
        ),
    ] = None,
    thresholds: Annotated[
        Path | None, typer.Option("--thresholds", help="a YAML file of metric: limit")
    ] = None,
    no_defaults: Annotated[
        bool,
        typer.Option("--no-defaults", help="judge only the metrics given a threshold here"),
    ] = False,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the comparison")] = None,
    markdown_out: Annotated[
        Path | None, typer.Option("--markdown", help="write the table as Markdown")
    ] = None,
) -> None:
    """Compare a candidate run with a baseline; exit 1 when a metric regressed."""
    settings = Settings()
    try:
        before = read_run(resolve_run(settings, baseline))
        after = read_run(resolve_run(settings, candidate))
        limits = {} if no_defaults else parse_thresholds(DEFAULT_THRESHOLDS)
        if thresholds is not None:
            limits |= read_thresholds_file(thresholds)
        limits |= parse_fail_on(fail_on or [])
    except (ResultsError, ThresholdError) as exc:
        raise fail(str(exc)) from None
    comparison = compare(before, after, limits)
    print_comparison(comparison)
    if json_out is not None:
        json_out.write_bytes(orjson.dumps(comparison.as_dict(), option=orjson.OPT_INDENT_2))
    if markdown_out is not None:
        markdown_out.write_text(comparison.markdown(), encoding="utf-8")
    raise typer.Exit(0 if comparison.passed else 1)


def print_comparison(comparison: Comparison) -> None:
    base, cand = comparison.baseline, comparison.candidate
    table = Table(
        title=f"compare — {cand.run_id} ({cand.scenario}) against {base.run_id} ({base.scenario})",
        title_justify="left",
    )
    for column in ("metric", "baseline", "candidate", "change", "threshold", "verdict"):
        table.add_column(column, justify="left" if column in ("metric", "verdict") else "right")
    for row in comparison.rows:
        style = VERDICT_STYLE[row.verdict]
        table.add_row(
            row.label,
            show(row.baseline, row.unit),
            show(row.candidate, row.unit),
            change(row),
            row.threshold,
            f"[{style}]{row.verdict}[/]",
        )
    console.print(table)
    for run in (base, cand):
        if not run.valid:
            console.print(f"[yellow]note:[/] run {run.run_id} was INVALID (generator saturated)")
    for note in comparison.notes:
        console.print(f"[yellow]note:[/] {note}")
    if comparison.passed:
        console.print("[bold green]no regression[/]")
    else:
        names = ", ".join(row.metric for row in comparison.regressions)
        console.print(f"[bold red]REGRESSION[/] in {names}")


def register(app: typer.Typer) -> None:
    app.command("compare")(compare_command)
