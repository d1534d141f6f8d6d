"""The files rtcsim ships as package data, found with ``importlib.resources`` wherever the
package is installed (a checkout's editable install, or a wheel in site-packages): the
scenario library (``rtcsim/scenarios/``: scenarios, load scenarios and their locustfiles) and the
Kibana saved objects (``rtcsim/report/kibana/``). Results and state never go here: they go under
the working folder (``simulator.settings``).

A scenario is named on the command line by a path, or by its name in the library
(``rtcsim run smoke``, ``rtcsim run large/load-ramp-200``); ``scenarios/smoke.yaml``, the path
in a checkout of old, still finds the library's ``smoke.yaml`` from anywhere.
"""

from __future__ import annotations

import difflib
from importlib import resources
from pathlib import Path

from simulator.scenario.problems import ScenarioError

SUFFIXES = (".yaml", ".yml", ".py")


def _folder(package: str, name: str) -> Path:
    # On-disk packages only (no zip imports): the run reads locustfiles by path.
    return Path(str(resources.files(package).joinpath(name)))


LIBRARY = _folder("rtcsim", "scenarios")
KIBANA_DIR = _folder("rtcsim.report", "kibana")
LOCUSTFILES = LIBRARY / "locust"


def library_scenarios() -> list[Path]:
    """Every scenario of the library (not the locustfiles it uses), by name."""
    files = [
        path
        for path in LIBRARY.rglob("*")
        if path.suffix in SUFFIXES and LOCUSTFILES not in path.parents and path.is_file()
    ]
    return sorted(files, key=library_name)


def library_name(path: Path) -> str:
    """``smoke``, ``large/load-ramp-200``: how a library scenario is named."""
    return path.relative_to(LIBRARY).with_suffix("").as_posix()


def resolve_scenario(name: str) -> Path:
    """A scenario file: the path as given when it exists, else the library's scenario of that
    name; a ``ScenarioError`` (with the closest names) when neither is."""
    given = Path(name)
    if given.exists():
        return given
    relative = name.removeprefix("scenarios/")
    for candidate in (relative, *(relative + suffix for suffix in SUFFIXES)):
        path = LIBRARY / candidate
        if path.is_file() and LOCUSTFILES not in path.parents:
            return path
    names = [library_name(p) for p in library_scenarios()]
    close = difflib.get_close_matches(Path(relative).with_suffix("").as_posix(), names, n=3)
    hint = f"did you mean {', '.join(close)}?" if close else "`rtcsim scenario list` lists them"
    raise ScenarioError(f"{name}: no such file, and no library scenario of that name; {hint}")
