"""The ``rtcsim`` command line: one typer app, every subcommand mounted here from the module of
its group (``run``, ``results``, ``report``, ``load``, ``soak``, ``capacity``, ``compare``,
``services``, ``recording``).

Exit codes: 0 passed, 1 a check failed, 2 setup error (bad scenario, services missing), 3 the run
is invalid (the generator was saturated; ``simulator.watch``).
"""

from __future__ import annotations

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

app = typer.Typer(
    help="rtcsim: real WebRTC sessions against a media server, checked.", no_args_is_help=True
)
app.command("run")(run.run)
app.add_typer(services.app, name="services")
app.add_typer(recording.app, name="recording")
results.register(app)  # check, export, scenario from-session
report.register(app)  # report, kibana import
load.register(app)  # load (locust; imported only by the locust processes it starts)
soak.register(app)  # soak (a bounded load with churn, the collector watched for leaks)
capacity.register(app)  # capacity (rooms added step by step until an SLO breaks)
compare.register(app)  # compare (two runs, metric by metric; exit 1 on a regression)


def main() -> None:
    app()
