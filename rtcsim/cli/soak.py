"""``rtcsim soak``: peers joining and leaving for a bounded time, the collector's memory and
descriptors held to the bounds of ``rtcsim.soak.judge.Bounds``.

Exit codes: 0 within bounds, 1 a bound exceeded (each named), 2 the soak could not start.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from rtcsim.cli.framework import load_settings
from rtcsim.services.errors import ServiceError
from rtcsim.soak.judge import MB_KB
from rtcsim.soak.run import MAX_MINUTES, MAX_USERS, SoakError, SoakPlan, SoakResult, soak

console = Console(width=None if sys.stdout.isatty() else 120)


def soak_command(
    minutes: Annotated[
        float, typer.Option("--minutes", min=0.5, max=MAX_MINUTES, help="load time")
    ] = 5.0,
    users: Annotated[int, typer.Option("--users", "-u", min=1, max=MAX_USERS)] = 9,
    sample_s: Annotated[
        float, typer.Option("--sample-s", min=0.5, max=60, help="seconds between samples")
    ] = 5.0,
) -> None:
    """Churn peers through rooms for --minutes; fail if the collector's memory or fds grow."""
    try:
        settings = load_settings()
        result = soak(
            settings,
            SoakPlan(minutes=minutes, users=users, sample_s=sample_s),
            console=Console(stderr=True),
        )
    except (ServiceError, SoakError, ValidationError) as exc:
        console.print(str(exc), style="red", markup=False, highlight=False)
        raise typer.Exit(2) from None
    print_result(result)
    raise typer.Exit(0 if result.verdict.passed else 1)


def print_result(result: SoakResult) -> None:
    samples, verdict = result.samples, result.verdict
    table = Table(title=f"soak — {result.out_dir.name}", title_justify="left")
    for column in ("metric", "start", "end", "first third", "last third", "growth", "bound", ""):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for g in verdict.growth:
        mb = g.metric == "rss_kb"

        def show(value: int, mb: bool = mb) -> str:
            return f"{value / MB_KB:.1f} MB" if mb else str(value)

        start = getattr(samples[0], g.metric)
        end = getattr(samples[-1], g.metric)
        table.add_row(
            "collector RSS" if mb else "collector open fds",
            show(start),
            show(end),
            show(g.first),
            show(g.last),
            show(g.growth),
            f"≤ {show(g.limit)}",
            "[green]ok[/]" if g.ok else "[bold red]FAIL[/]",
        )
    v = result.visits
    table.add_row(
        "join/leave cycles",
        "",
        "",
        "",
        "",
        str(verdict.cycles),
        f"≥ {verdict.min_cycles}",
        "[green]ok[/]" if verdict.cycles >= verdict.min_cycles else "[bold red]FAIL[/]",
    )
    console.print(table)
    console.print(
        f"{len(samples)} samples over {result.duration_s:.0f} s; {v.joins} joins, {v.leaves} "
        f"leaves, {v.failures} of {v.requests} load requests failed; "
        f"RSS peak {verdict.rss_peak_kb / MB_KB:.1f} MB (cap "
        f"{result.bounds.rss_max_kb / MB_KB:.0f} MB)"
    )
    for problem in verdict.problems:
        console.print(f"[bold red]✗[/] {problem}")
    state = "[bold green]PASSED[/]" if verdict.passed else "[bold red]FAILED[/]"
    console.print(f"{state}  {result.soak_json}")


def register(parent: typer.Typer) -> None:
    """Mount as ``rtcsim soak``."""
    parent.command("soak")(soak_command)
