"""What the commands print: the outcome of a run (media and checks tables, the verdict) and
errors, one line in red. Wide enough for the tables when the output is a pipe (make, CI)."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rtcsim.pipeline.outcome import RunOutcome
from simulator.watch.verdict import invalid_message

# Wide enough for the tables when the output is a pipe (make, CI) rather than a terminal.
console = Console(width=None if sys.stdout.isatty() else 120)

MAX_MEDIA_ROWS = 30
MAX_CHECK_ROWS = 60


def print_outcome(outcome: RunOutcome) -> None:
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
    console.print(media)
    checks = Table(title="checks", title_justify="left")
    for column in ("check", "expected", "found", ""):
        checks.add_column(column)
    shown = outcome.checks
    if len(shown) > MAX_CHECK_ROWS:  # a load run has hundreds: failures and expectations
        shown = [c for c in shown if not c.ok or c.name.startswith("expect: ")]
        checks.caption = (
            f"{len(outcome.checks) - len(shown)} more checks passed (summary.json, junit.xml)"
        )
    if outcome.throughput:
        figures = ", ".join(
            f"{name} {value:.3g}" for name, value in outcome.throughput.items() if value is not None
        )
        console.print(f"[dim]throughput:[/] {figures}")
    for check in shown:
        checks.add_row(
            check.name,
            str(check.expected),
            str(check.found),
            "[green]ok[/]" if check.ok else "[bold red]FAIL[/]",
        )
    console.print(checks)
    verdict = "[bold green]PASSED[/]" if outcome.passed else "[bold red]FAILED[/]"
    if outcome.invalid_reason is not None:
        verdict = f"[bold yellow]{escape(invalid_message(outcome.invalid_reason))}[/]"
    console.print(f"{verdict}  results in {outcome.results_dir}")


def fail(message: str) -> typer.Exit:
    """Print the error and return the exit (code 2, a setup error) for the caller to raise."""
    console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(2)
