"""The ``rtcsim`` command line: one typer app, every subcommand mounted here from the module of
its group (``run``/``validate``, ``results``, ``report``, ``load``, ``soak``, ``capacity``,
``compare``, ``services``, ``recording``). A new command is a module with a ``register(app)``
(or an :class:`App` group) mounted below; ``rtcsim.cli.framework`` gives it clean help and
one-line errors.

Exit codes: 0 passed, 1 a check failed, 2 setup error (bad scenario or setting, services
missing), 3 the run is invalid (the generator was saturated; ``simulator.watch``).
"""

from __future__ import annotations

from importlib import metadata
from typing import Annotated

import typer

from rtcsim.cli import (
    capacity,
    compare,
    load,
    recording,
    report,
    results,
    run,
    services,
    soak,
)
from rtcsim.cli.framework import App

app = App(help="rtcsim: real WebRTC sessions against a media server, checked.")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"rtcsim {metadata.version('rtcsim')}")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="print rtcsim's version and exit"
        ),
    ] = False,
) -> None:
    """rtcsim: real WebRTC sessions against a media server, checked."""


app.command("run")(run.run)
app.command("validate")(run.validate)
results.register(app)  # check, export, scenario list / from-session
report.register(app)  # report, kibana import
load.register(app)  # load (locust; imported only by the locust processes it starts)
soak.register(app)  # soak (a bounded load with churn, the collector watched for leaks)
capacity.register(app)  # capacity (rooms added step by step until an SLO breaks)
compare.register(app)  # compare (two runs, metric by metric; exit 1 on a regression)
app.add_typer(services.app, name="services")
app.add_typer(recording.app, name="recording")


def main() -> None:
    app()
