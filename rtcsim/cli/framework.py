"""What every ``rtcsim`` command shares: the typer classes that keep the help clean and turn a
user's mistake into one line on stderr and exit 2 (never a traceback), and the settings read
once at the edge with the ``RTCSIM_*`` typos warned about.

A command module makes its group with :class:`App` (not ``typer.Typer``) and registers with
``app.command(...)`` as usual; the root app mounts it. Errors a command does not handle itself
reach :meth:`RtcsimGroup.invoke`: a ``SettingsError`` (a setting or ``rtcsim.toml``), a
``ScenarioError`` (a scenario file), a ``SetupError`` (services missing), a ``ResultsError``
(a past run), each printed as it says, exit 2.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

import typer
from rich.console import Console
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from rtcsim.pipeline.outcome import SetupError
from rtcsim.results.folders import ResultsError
from simulator.scenario.problems import ScenarioError
from simulator.settings import Settings
from simulator.settings_errors import SettingsError, read_settings, unknown_variables

EXIT_SETUP = 2
EXIT_INTERRUPTED = 130
USER_ERRORS: tuple[type[Exception], ...] = (SettingsError, ScenarioError, SetupError, ResultsError)

stderr = Console(stderr=True, width=None if sys.stderr.isatty() else 120)


def error_line(message: str) -> None:
    """``error: ...`` on stderr, every line of the message as it is (no markup)."""
    for line in str(message).splitlines() or [""]:
        stderr.print(f"[bold red]error:[/] {_escape(line)}", highlight=False, soft_wrap=True)


def warning_line(message: str) -> None:
    stderr.print(f"[yellow]{_escape(message)}[/]", highlight=False, soft_wrap=True)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


_warned = False


def load_settings(**overrides: Any) -> Settings:
    """The settings (``SettingsError`` -> exit 2 through the group), once per process warning
    of each ``RTCSIM_*`` variable nobody reads."""
    global _warned
    if not _warned:
        _warned = True
        for warning in unknown_variables():
            warning_line(warning)
    given = {key: value for key, value in overrides.items() if value is not None}
    return read_settings(**given)


def _clean(params: list[Any]) -> list[Any]:
    """No ``<bool>`` in the help: a flag takes no value, so it shows none; a variadic argument
    shows its own metavar (``FILE...``) rather than ``<list[Path]>``."""
    for param in params:
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""
        if isinstance(param, TyperArgument) and param.metavar is not None:
            param.display_type_rich = _no_type  # type: ignore[method-assign]
    return params


def _no_type(ctx: Any) -> None:
    return None


class RtcsimCommand(TyperCommand):
    def get_params(self, ctx: Any) -> list[Any]:
        return _clean(super().get_params(ctx))


class RtcsimGroup(TyperGroup):
    def get_params(self, ctx: Any) -> list[Any]:
        return _clean(super().get_params(ctx))

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except USER_ERRORS as exc:
            error_line(str(exc))
            raise typer.Exit(EXIT_SETUP) from None
        except KeyboardInterrupt:
            error_line("interrupted")
            raise typer.Exit(EXIT_INTERRUPTED) from None


class App(typer.Typer):
    """``typer.Typer`` with rtcsim's command and group classes as defaults."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", RtcsimGroup)
        # Docstrings wrap at 100 columns; markdown mode joins their lines into paragraphs.
        kwargs.setdefault("rich_markup_mode", "markdown")
        kwargs.setdefault("no_args_is_help", True)
        super().__init__(**kwargs)

    def command(  # type: ignore[override]
        self, name: str | None = None, *, cls: type[TyperCommand] | None = None, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return super().command(name, cls=cls or RtcsimCommand, **kwargs)


def exit_with(codes: Sequence[int]) -> typer.Exit:
    """The worst of several runs' exit codes (3 invalid > 2 setup > 1 failed > 0)."""
    return typer.Exit(max(codes, default=0))
