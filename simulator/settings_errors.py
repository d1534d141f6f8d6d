"""Reading the settings at the edge: every problem as one line naming the setting and where its
value came from (``RTCSIM_ES_PORT=abc``, ``rtcsim.toml``), never a traceback; and the
``RTCSIM_*`` variables nobody reads, named with a did-you-mean, because a typo in a variable
name otherwise leaves a default in force without a word.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import SettingsError as SourceError

from collector.settings import CollectorSettings
from simulator.settings import Settings

ENV_PREFIX = "RTCSIM_"
TOML_FILE = Path("rtcsim.toml")
OTHER_VARIABLES = frozenset(
    {
        "RTCSIM_LOAD_RUN_ID",  # simulator.load.session: set by rtcsim for its locust processes
        "RTCSIM_LOAD_RUN_DIR",
        "RTCSIM_LOAD_RUN_TIME_S",  # simulator.load.wind_down
        "RTCSIM_RAMP_PEAK",  # scenarios/locust/ramp-rooms-of-four.py
        "RTCSIM_LOCUST_RESTARTED",  # simulator.load.plain_locust
    }
)
"""``RTCSIM_*`` variables read by something other than the settings object."""
COLLECTOR_PREFIX = "RTCSIM_COLLECTOR_"


class SettingsError(ValueError):
    """Settings that cannot be used; the message is one line per problem, each naming the
    setting and where its value came from."""

    def __init__(self, message: str) -> None:
        super().__init__("\n".join(f"invalid settings: {line}" for line in message.splitlines()))


def read_settings(**overrides: Any) -> Settings:
    """``Settings(**overrides)``, or a :class:`SettingsError` saying what is wrong and where."""
    try:
        return Settings(**overrides)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{TOML_FILE.resolve()}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise SettingsError(f"{TOML_FILE.resolve()}: cannot read: {exc.strerror}") from None
    except SourceError as exc:  # pydantic-settings could not even parse a value (a list, JSON)
        raise SettingsError(_unparsable(exc, overrides)) from None
    except ValidationError as exc:
        raise SettingsError(describe(exc, overrides)) from None


def describe(exc: ValidationError, overrides: Mapping[str, Any] | None = None) -> str:
    """One line per problem: ``RTCSIM_ES_PORT=abc: es_port: Input should be ...``."""
    toml = _toml_keys()
    lines = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        name = loc[0] if loc else ""
        message = str(error["msg"])
        if error["type"] == "extra_forbidden":
            lines.append(_unknown_setting(name, toml))
            continue
        message = message.removeprefix("Value error, ")
        if not loc:  # a rule across settings (es_security needs https...)
            lines.append(f"settings: {message}")
            continue
        lines.append(f"{_origin(name, toml, overrides or {})}: {'.'.join(loc)}: {message}")
    return "\n".join(lines)


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """A warning per ``RTCSIM_*`` variable no settings object reads, with a did-you-mean."""
    environ = os.environ if environ is None else environ
    known = {ENV_PREFIX + name.upper() for name in Settings.model_fields} | OTHER_VARIABLES
    collector = {COLLECTOR_PREFIX + name.upper() for name in CollectorSettings.model_fields}
    warnings = []
    for variable in sorted(environ):
        if not variable.startswith(ENV_PREFIX) or variable in known | collector:
            continue
        close = difflib.get_close_matches(variable, sorted(known | collector), n=1, cutoff=0.75)
        hint = f"; did you mean {close[0]}?" if close else ""
        warnings.append(f"warning: {variable} is not an rtcsim setting, ignored{hint}")
    return warnings


def _unparsable(exc: SourceError, overrides: Mapping[str, Any]) -> str:
    """pydantic-settings' own error (a list or mapping that is not JSON) with the setting's
    name and value: ``error parsing value for field "es_cluster_ports" from source ...``."""
    match = re.search(r'field "([a-z0-9_]+)"', str(exc))
    if match is None:
        return f"settings: {exc}"
    name = match.group(1)
    return (
        f"{_origin(name, _toml_keys(), overrides)}: {name}: not a JSON list or mapping "
        '(e.g. [9201, 9202] or ["http://a:9200"])'
    )


def _toml_keys() -> set[str]:
    try:
        with TOML_FILE.open("rb") as file:
            return set(tomllib.load(file))
    except (OSError, tomllib.TOMLDecodeError):
        return set()


def _origin(name: str, toml: set[str], overrides: Mapping[str, Any]) -> str:
    """Where the value of setting ``name`` came from, as the user would write it."""
    variable = ENV_PREFIX + name.upper()
    if name in overrides:
        return f"{name}={overrides[name]!s}"
    if variable in os.environ:
        return f"{variable}={os.environ[variable]}"
    if name in toml:
        return f"{TOML_FILE.resolve()}"
    return "settings"


def _unknown_setting(name: str, toml: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(Settings.model_fields), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]}?" if close else ""
    where = f"{TOML_FILE.resolve()}: " if name in toml else ""
    return f"{where}{name}: not an rtcsim setting{hint}"
