"""Reading a scenario file, with errors that name the file, the line and the field path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from simulator.scenario.model import STEP_KINDS, Scenario


class ScenarioError(ValueError):
    """A scenario file that cannot run; the message says where and what."""


def load_scenario(path: Path) -> Scenario:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror}") from exc
    return parse_scenario(text, source=str(path))


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
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
    try:
        return Scenario.model_validate(data)
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
    return isinstance(part, str) and part in STEP_KINDS


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
