"""What the commands print: the outcome of a run (media and checks tables), its one-line verdict,
a summary of several files, the JSON of ``--json``. Results go to stdout; progress too, unless
stdout carries JSON; errors always go to stderr (``rtcsim.cli.framework``). Wide enough for the
tables when the output is a pipe (make, CI).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rtcsim.cli.framework import EXIT_SETUP, error_line
from rtcsim.pipeline.outcome import RunOutcome, summary_of, verdict_text

# Wide enough for the tables when the output is a pipe (make, CI) rather than a terminal.
console = Console(width=None if sys.stdout.isatty() else 120)

MAX_MEDIA_ROWS = 30
MAX_CHECK_ROWS = 60


@dataclass(frozen=True)
class FileResult:
    """One file of ``rtcsim run``: its outcome, or why it did not run."""

    path: Path
    outcome: RunOutcome | None = None
    error: str | None = None

    @property
    def exit_code(self) -> int:
        return self.outcome.exit_code if self.outcome is not None else EXIT_SETUP

    def as_dict(self) -> dict[str, Any]:
        if self.outcome is None:
            return {"file": str(self.path), "exit_code": self.exit_code, "error": self.error}
        return {"file": str(self.path), "exit_code": self.exit_code, **summary_of(self.outcome)}


def print_outcome(outcome: RunOutcome, *, out: Console | None = None) -> None:
    """The media and checks tables, then the verdict line."""
    out = out or console
    out.print(_media_table(outcome))
    if outcome.throughput:
        figures = ", ".join(
            f"{name} {value:.3g}" for name, value in outcome.throughput.items() if value is not None
        )
        out.print(f"[dim]throughput:[/] {figures}")
    out.print(_checks_table(outcome))
    print_verdict(outcome, out=out)


def print_verdict(outcome: RunOutcome, *, out: Console | None = None) -> None:
    """``PASSED  55/55 checks passed  results in …``: the line a person (or grep) looks for."""
    out = out or console
    text = escape(verdict_text(outcome))
    if not outcome.valid:
        line = f"[bold yellow]{text}[/]"
    elif outcome.passed:
        line = f"[bold green]PASSED[/]  {text}"
    else:
        line = f"[bold red]FAILED[/]  {text}"
    out.print(f"{line}  [dim]results in {outcome.results_dir}[/]", soft_wrap=True)


def print_files(results: list[FileResult], *, out: Console | None = None) -> None:
    """One row per file of a run of several: what became of each."""
    out = out or console
    table = Table(title="files", title_justify="left")
    for column in ("file", "scenario", "verdict", "exit", "run"):
        table.add_column(column)
    for result in results:
        if result.outcome is None:
            first = (result.error or "").splitlines()[0] if result.error else ""
            table.add_row(str(result.path), "", f"[red]not run[/]: {escape(first)}", "2", "")
            continue
        outcome = result.outcome
        colour = "green" if outcome.exit_code == 0 else "red" if outcome.valid else "yellow"
        table.add_row(
            str(result.path),
            outcome.scenario,
            f"[{colour}]{escape(verdict_text(outcome))}[/]",
            str(outcome.exit_code),
            outcome.run_id,
        )
    out.print(table)


def print_json(results: list[FileResult]) -> None:
    """``--json``: every file's outcome (its summary.json) or error, and the exit code."""
    document = {
        "exit_code": max((r.exit_code for r in results), default=0),
        "runs": [r.as_dict() for r in results],
    }
    sys.stdout.buffer.write(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
    sys.stdout.buffer.flush()


def fail(message: str) -> typer.Exit:
    """Print the error on stderr and return the exit (code 2, a setup error) to raise."""
    error_line(message)
    return typer.Exit(EXIT_SETUP)


def _media_table(outcome: RunOutcome) -> Table:
    media = Table(title=f"media — run {outcome.run_id}", title_justify="left")
    for column in ("peer", "role", "video frames", "audio frames", "bytes"):
        media.add_column(column, justify="right" if column not in ("peer", "role") else "left")
    people = list(outcome.ledger.participants.values())
    for person in people[:MAX_MEDIA_ROWS]:
        for pub in person.publications:
            video, audio = pub.sent.get("video"), pub.sent.get("audio")
            media.add_row(
                person.name,
                f"sends {pub.stream_id}",
                str(video.frames if video else 0),
                str(audio.frames if audio else 0),
                str(sum(c.bytes for c in pub.sent.values())),
            )
        for sub in person.subscriptions:
            video, audio = sub.received.get("video"), sub.received.get("audio")
            media.add_row(
                person.name,
                f"receives {sub.publisher}",
                str(video.frames if video else 0),
                str(audio.frames if audio else 0),
                str(sub.bytes_received),
            )
    if len(people) > MAX_MEDIA_ROWS:
        media.caption = f"and {len(people) - MAX_MEDIA_ROWS} more participants (ledger.json)"
    return media


def _checks_table(outcome: RunOutcome) -> Table:
    checks = Table(title="checks", title_justify="left")
    for column in ("check", "expected", "found", ""):
        checks.add_column(column)
    shown = outcome.checks
    if len(shown) > MAX_CHECK_ROWS:  # a load run has hundreds: failures and expectations
        shown = [c for c in shown if not c.ok or c.name.startswith("expect: ")]
        checks.caption = (
            f"{len(outcome.checks) - len(shown)} more checks passed (summary.json, junit.xml)"
        )
    for check in shown:
        status = "[green]ok[/]" if check.ok else "[bold red]FAIL[/]"
        if check.ok and str(check.found).startswith("n/a"):
            status = "[dim]n/a[/]"
        checks.add_row(
            escape(check.name), escape(str(check.expected)), escape(str(check.found)), status
        )
    return checks
