"""Reading a scenario file, with errors that name the file, the line and the field path."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from simulator.scenario.capacity import CapacityScenario
from simulator.scenario.load import AnyScenario, LoadScenario
from simulator.scenario.model import STEP_KINDS, Scenario

EXPECTATION_KINDS = ("documents", "throughput")  # union tags pydantic puts in error paths


class ScenarioError(ValueError):
    """A scenario file that cannot run; the message says where and what."""


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
    if path.suffix == ".py":
        return load_python_scenario(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror}") from exc
    return parse_any_scenario(text, source=str(path))


def load_python_scenario(path: Path) -> Scenario:
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
        raise ScenarioError(f"{path}: the scenario's code failed: {exc!r}") from exc
    value = getattr(module, "SCENARIO", None)
    if isinstance(value, Scenario):
        return value
    if not isinstance(value, dict):
        raise ScenarioError(f"{path}: defines no SCENARIO (a Scenario or a mapping)")
    try:
        return Scenario.model_validate(value)
    except ValidationError as exc:
        problems = "; ".join(
            ".".join(str(p) for p in e["loc"] if not _is_union_tag(p)) + f": {e['msg']}"
            for e in exc.errors()
        )
        raise ScenarioError(f"{path}: SCENARIO: {problems}") from exc


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    scenario = parse_any_scenario(text, source)
    if isinstance(scenario, LoadScenario):
        raise ScenarioError(f"{source}: a load scenario (load:) is not a timeline scenario")
    if isinstance(scenario, CapacityScenario):
        raise ScenarioError(f"{source}: a capacity scenario (capacity:) is not a timeline one")
    return scenario


def parse_any_scenario(text: str, source: str = "<scenario>") -> AnyScenario:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ScenarioError(
            f"{source}{line}: not valid YAML: {getattr(exc, 'problem', exc)}"
        ) from exc
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
        return model.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_describe(exc, root, source)) from exc


def _describe(exc: ValidationError, root: yaml.Node | None, source: str) -> str:
    lines = []
    for error in exc.errors():
        path = [part for part in error["loc"] if not _is_union_tag(part)]
        line = _line_of(root, path)
        where = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in path).replace(
            ".[", "["
        )
        lines.append(f"{source}:{line}: {where or '(top)'}: {error['msg']}")
    return "\n".join(lines)


def _is_union_tag(part: Any) -> bool:
    """pydantic puts the step kind (e.g. ``join``) into error paths; YAML has no such key."""
    return isinstance(part, str) and (part in STEP_KINDS or part in EXPECTATION_KINDS)


def _line_of(node: yaml.Node | None, path: list[Any]) -> int:
    """The 1-based line of the deepest YAML node the path reaches."""
    if node is None:
        return 1
    best = node
    for part in path:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    child = value
                    break
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            child = node.value[part]
        if child is None:
            break
        node = best = child
    return int(best.start_mark.line) + 1
