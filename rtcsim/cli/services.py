"""``rtcsim services up|down|status``: the service stack from the command line.

Errors of the service layer are the user's to act on, so they are printed as a message in red
and exit with code 2, never as a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import typer
from rich.console import Console
from rich.table import Table

from rtcsim.cli.framework import App, load_settings
from rtcsim.services import stack
from rtcsim.services.errors import ServiceError
from simulator.settings import Settings

app = App(
    name="services",
    help="Start, stop and inspect Janus, Elasticsearch and the collector.",
    no_args_is_help=True,
)
console = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")

EXIT_SERVICE_ERROR = 2


def _guarded(action: Callable[[], T]) -> T:
    try:
        return action()
    except ServiceError as exc:
        console.print(str(exc), style="red", markup=False, highlight=False)
        raise typer.Exit(EXIT_SERVICE_ERROR) from None
    except KeyboardInterrupt:
        console.print("[red]interrupted[/]")
        raise typer.Exit(130) from None


def _settings() -> Settings:
    return load_settings()  # a SettingsError: one line, exit 2 (rtcsim.cli.framework)


def _print(status: stack.StackStatus) -> None:
    table = Table("service", "state", "pid", "where")
    colours = {
        stack.State.UP: "green",
        stack.State.REUSED: "cyan",
        stack.State.SKIPPED: "dim",
        stack.State.DOWN: "dim",
        stack.State.UNHEALTHY: "red",
    }
    for s in status.services:
        colour = colours[s.state]
        table.add_row(s.name, f"[{colour}]{s.state.value}[/]", str(s.pid or ""), s.detail)
    Console().print(table)


@app.command()
def up(
    collector: bool = typer.Option(
        True, "--collector/--no-collector", help="also run the collector (Janus events → ES)"
    ),
    livekit: bool = typer.Option(
        False, "--livekit/--no-livekit", help="also run LiveKit (built on first use)"
    ),
) -> None:
    """Bring up namespaces, Elasticsearch, the collector and Janus (reusing what runs)."""
    settings = _settings()
    _guarded(
        lambda: stack.up(settings, with_collector=collector, with_livekit=livekit, console=console)
    )


@app.command()
def down() -> None:
    """Stop everything rtcsim started and remove its network namespaces."""
    settings = _settings()
    _guarded(lambda: stack.down(settings, console=console))


@app.command()
def status() -> None:
    """Show what runs; exit 1 when something is down or unhealthy."""
    settings = _settings()
    result = _guarded(lambda: stack.status(settings))
    _print(result)
    if not result.healthy:
        raise typer.Exit(1)
