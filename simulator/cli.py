"""The ``rtcsim`` command line.

Exit codes: 0 passed, 1 a check failed, 2 setup error (bad scenario, services missing), 3 the run
is invalid (the generator was saturated; ``simulator.watch``).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from simulator.cli_results import register as register_results
from simulator.load.cli import register as register_load
from simulator.recording.cli import app as recording_app
from simulator.report.cli import register as register_report
from simulator.run.execute import RunOutcome, SetupError
from simulator.run.live import LiveView
from simulator.runs import run_file
from simulator.scenario.loader import ScenarioError
from simulator.services.cli import app as services_app
from simulator.settings import Settings
from simulator.soak.cli import register as register_soak
from simulator.watch.verdict import invalid_message

app = typer.Typer(
    help="rtcsim: real WebRTC sessions against a media server, checked.", no_args_is_help=True
)
app.add_typer(services_app, name="services")
app.add_typer(recording_app, name="recording")
register_results(app)  # check, export, scenario from-session
register_report(app)  # report, kibana import
register_load(app)  # load (locust; imported only by the locust processes it starts)
register_soak(app)  # soak (a bounded load with churn, the collector watched for leaks)
# Wide enough for the tables when the output is a pipe (make, CI) rather than a terminal.
console = Console(width=None if sys.stdout.isatty() else 120)


@app.command()
def run(
    files: Annotated[list[Path], typer.Argument(help="scenario files (YAML)", exists=False)],
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log to the terminal")] = False,
) -> None:
    """Play scenarios against the running services, check them, write results/<run-id>/."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    settings = Settings()
    worst = 0
    for path in files:
        try:
            outcome = asyncio.run(
                run_file(
                    path,
                    settings,
                    progress=lambda m: console.print(f"[dim]·[/] {m}"),
                    live=LiveView(console),
                )
            )
        except (ScenarioError, SetupError) as exc:
            console.print(f"[bold red]error:[/] {exc}")
            raise typer.Exit(2) from None
        print_outcome(outcome)
        worst = max(worst, outcome.exit_code)
    raise typer.Exit(worst)


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


def main() -> None:
    app()
