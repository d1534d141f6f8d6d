"""Reading a scenario file, with errors that name the file, the line and the field path.

Everything wrong with a file is reported at once, each problem at its line: the YAML itself
(syntax, duplicate keys), the fields (pydantic), names that do not resolve
(``simulator.scenario.model.reference_problems``) and steps that would fail when they play
(``simulator.scenario.sequence``). What the media server or the machine cannot do is checked
on top of this by ``simulator.validation``.
"""

from __future__ import annotations

import importlib.util
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from simulator.scenario.capacity import CapacityScenario
from simulator.scenario.load import AnyScenario, LoadScenario
from simulator.scenario.model import DEFER_REFERENCES, STEP_KINDS, Scenario, reference_problems
from simulator.scenario.problems import PathPart, Problem, format_path
from simulator.scenario.problems import ScenarioError as ScenarioError
from simulator.scenario.sequence import sequence_problems

EXPECTATION_KINDS = ("documents", "throughput")  # union tags pydantic puts in error paths
CONTEXT = {DEFER_REFERENCES: True}


@dataclass(frozen=True)
class SourceMap:
    """Where each part of a YAML scenario sits in its file."""

    source: str
    root: yaml.Node | None

    def line(self, path: Iterable[PathPart]) -> int:
        """The 1-based line of the deepest YAML node the path reaches."""
        node = self.root
        if node is None:
            return 1
        best = node
        for part in path:
            child: yaml.Node | None = None
            if isinstance(node, yaml.MappingNode):
                child = next((v for k, v in node.value if k.value == part), None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                child = node.value[part] if part < len(node.value) else None
            if child is None:
                break
            node = best = child
        return int(best.start_mark.line) + 1

    def locate(self, problem: Problem) -> str:
        return f"{self.source}:{self.line(problem.path)}: {problem.where}: {problem.message}"


@dataclass
class ScenarioFile:
    """A parsed scenario file and what is still wrong with it (names, order): the caller adds
    its own problems (``simulator.validation``) and raises them all together."""

    scenario: AnyScenario
    source: str
    lines: SourceMap | None
    problems: list[Problem] = field(default_factory=list)

    def locate(self, problem: Problem) -> str:
        """``file:line: where: message`` (a Python scenario has no lines: ``file: ...``)."""
        if self.lines is not None:
            return self.lines.locate(problem)
        return f"{self.source}: SCENARIO.{problem.where}: {problem.message}"

    def error(self, more: Iterable[Problem] = ()) -> ScenarioError | None:
        """Every problem, in file order, as one error; None when there is none."""
        problems = [*self.problems, *more]
        if not problems:
            return None
        if self.lines is not None:
            lines = self.lines
            problems.sort(key=lambda p: lines.line(p.path))
        return ScenarioError("\n".join(self.locate(p) for p in problems))

    def checked(self) -> AnyScenario:
        """The scenario, or the error listing everything wrong with it."""
        error = self.error()
        if error is not None:
            raise error
        return self.scenario


def load_scenario(path: Path) -> Scenario:
    """A scenario from a YAML file, or from a Python file for what YAML cannot say."""
    scenario = load_any_scenario(path)
    if isinstance(scenario, LoadScenario | CapacityScenario):
        kind = (
            "a load scenario (load:)"
            if isinstance(scenario, LoadScenario)
            else "a capacity scenario (capacity:)"
        )
        raise ScenarioError(f"{path}: {kind} is run by `rtcsim run`, not here")
    return scenario


def load_any_scenario(path: Path) -> AnyScenario:
    """A timeline scenario, a load scenario (a YAML file with a ``load:`` section) or a
    capacity scenario (``capacity:``)."""
    return read_scenario_file(path).checked()


def read_scenario_file(path: Path) -> ScenarioFile:
    """The file parsed, with what is wrong with its names and order still to be raised;
    raises :class:`ScenarioError` when it does not parse into a scenario at all."""
    if path.suffix == ".py":
        return read_python_scenario(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror}") from exc
    if b"\0" in data:
        raise ScenarioError(f"{path}: not a text file (a scenario is YAML or Python)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ScenarioError(
            f"{path}:{line}: not UTF-8 text (byte {exc.start}); a scenario is YAML or Python"
        ) from exc
    return read_any_scenario(text, source=str(path))


def load_python_scenario(path: Path) -> Scenario:
    scenario = read_python_scenario(path).checked()
    assert isinstance(scenario, Scenario)
    return scenario


def _failing_line(exc: BaseException, path: Path) -> int | None:
    """The line of the user's file at fault: a syntax error's own, else the deepest frame of
    the traceback that is in the file."""
    own = path.resolve()
    if isinstance(exc, SyntaxError) and exc.filename and Path(exc.filename).resolve() == own:
        return exc.lineno
    line = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if Path(frame.f_code.co_filename).resolve() == own:
            line = lineno
    return line


def _one_line(exc: BaseException) -> str:
    message = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def read_python_scenario(path: Path) -> ScenarioFile:
    """A Python scenario file builds its timeline with code (loops, computed times, random
    but seeded choices) and leaves the result in a module-level ``SCENARIO``: a ``Scenario``
    or a plain mapping shaped like the YAML. It is the user's own file, run like a conftest;
    scenario *data* is never evaluated."""
    spec = importlib.util.spec_from_file_location(f"rtcsim_scenario_{path.stem}", path)
    if spec is None or spec.loader is None or not path.exists():
        raise ScenarioError(f"{path}: cannot read")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        where = f"{path}:{line}" if (line := _failing_line(exc, path)) else str(path)
        raise ScenarioError(f"{where}: the scenario's code failed: {_one_line(exc)}") from exc
    value = getattr(module, "SCENARIO", None)
    if isinstance(value, Scenario):
        return ScenarioFile(value, str(path), None, sequence_problems(value))
    if not isinstance(value, dict):
        raise ScenarioError(f"{path}: defines no SCENARIO (a Scenario or a mapping)")
    try:
        scenario = Scenario.model_validate(value, context=CONTEXT)
    except ValidationError as exc:
        problems = "; ".join(
            format_path(_path_of(e["loc"])) + f": {e['msg']}" for e in exc.errors()
        )
        raise ScenarioError(f"{path}: SCENARIO: {problems}") from exc
    return ScenarioFile(scenario, str(path), None, _problems(scenario))


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    scenario = parse_any_scenario(text, source)
    if isinstance(scenario, LoadScenario):
        raise ScenarioError(f"{source}: a load scenario (load:) is not a timeline scenario")
    if isinstance(scenario, CapacityScenario):
        raise ScenarioError(f"{source}: a capacity scenario (capacity:) is not a timeline one")
    return scenario


def parse_any_scenario(text: str, source: str = "<scenario>") -> AnyScenario:
    return read_any_scenario(text, source).checked()


def read_any_scenario(text: str, source: str = "<scenario>") -> ScenarioFile:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ScenarioError(
            f"{source}{line}: not valid YAML: {getattr(exc, 'problem', exc)}"
        ) from exc
    lines = SourceMap(source, root)
    duplicates = list(duplicate_keys(root))
    if duplicates:
        raise ScenarioError(
            "\n".join(f"{source}:{line}: {message}" for line, message in duplicates)
        )
    if not isinstance(data, dict):
        raise ScenarioError(
            f"{source}:1: a scenario is a mapping (name, rooms, participants, timeline)"
        )
    model: type[Scenario] | type[LoadScenario] | type[CapacityScenario] = Scenario
    if "load" in data:
        model = LoadScenario
    elif "capacity" in data:
        model = CapacityScenario
    try:
        scenario = model.model_validate(data, context=CONTEXT)
    except ValidationError as exc:
        raise ScenarioError(_describe(exc, lines)) from exc
    return ScenarioFile(scenario, source, lines, _problems(scenario))


def _problems(scenario: AnyScenario) -> list[Problem]:
    if not isinstance(scenario, Scenario):
        return []
    problems = reference_problems(scenario)
    return problems + sequence_problems(scenario)


def duplicate_keys(node: yaml.Node | None) -> Iterable[tuple[int, str]]:
    """(line, message) for every key a mapping holds twice: YAML lets the last one win, which
    silently drops what the first said."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value != "<<":
                line = int(key.start_mark.line) + 1
                if key.value in seen:
                    yield line, f"duplicate key {key.value!r} (first at line {seen[key.value]})"
                seen.setdefault(key.value, line)
            yield from duplicate_keys(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from duplicate_keys(item)


def _describe(exc: ValidationError, lines: SourceMap) -> str:
    located = []
    for error in exc.errors():
        path = _path_of(error["loc"])
        located.append((lines.line(path), format_path(path), str(error["msg"])))
    return "\n".join(f"{lines.source}:{line}: {where}: {msg}" for line, where, msg in located)


def _path_of(loc: Iterable[Any]) -> tuple[PathPart, ...]:
    """pydantic puts the step kind (e.g. ``join``) into error paths; YAML has no such key."""
    return tuple(
        part
        for part in loc
        if not (isinstance(part, str) and (part in STEP_KINDS or part in EXPECTATION_KINDS))
    )
